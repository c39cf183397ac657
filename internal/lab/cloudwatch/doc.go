// Package cloudwatch is the lab's stand-in for Amazon CloudWatch metrics and
// metric alarms.
//
// One handler speaks the three wire protocols CloudWatch clients use today,
// chosen per request: Smithy RPC v2 CBOR (aws-sdk-go-v2), JSON 1.0 in query
// mode (awscli v1) and the classic query protocol with XML answers (older
// SDKs). Every protocol is decoded into the same request structs and served
// by the same code, so a behaviour proven through one client holds for all.
//
// Samples are kept raw — each value with its count, per metric identity
// (namespace, name, sorted dimensions) and timestamp — so every statistic,
// percentiles included, is exact for any period. Nothing runs in the
// background: data visibility and alarm states are computed from the
// injected clock when they are read.
//
// Besides the HTTP API the service has a plain Go API (Put, Query,
// AlarmState) for the lab's data plane, which publishes edge and load
// balancer metrics under the AWS/ namespaces that PutMetricData refuses.
package cloudwatch
