// Package awsapi holds what every emulated AWS service in the lab shares: who
// is calling (access keys mapped to lab accounts), AWS-shaped error envelopes
// for the REST-XML, query, JSON and CBOR protocols, request ids, the injected
// clock, and the append-only change history that tests read to prove what
// really happened to the world.
//
// Nothing here knows about a particular service; the service packages
// (route53, cloudfront, cloudwatch, acm, elbv2, sts) build on it, and the lab
// package wires them behind one HTTP listener.
package awsapi
