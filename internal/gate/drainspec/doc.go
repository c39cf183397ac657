// Package drainspec is the stored form of a drain gate — its metric source
// (CloudWatch or Prometheus), threshold, window — and the policy the
// engine applies when the old edge has not drained in time (wait, pause or
// rollback).
//
// It imports no SDK: the engine reads a gate's policy through it without
// linking the CloudWatch client, which only the gate itself
// (internal/gate/drain) needs.
package drainspec
