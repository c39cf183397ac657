// Package cloudwatch is the metric gate: each measurement runs one
// GetMetricData query (a single metric, or metric math over several) over
// the newest complete periods and compares the newest datapoint with the
// gate's threshold.
//
// CloudWatch publishes 1-minute data a couple of minutes after the minute
// ends, and the newest periods are partial; the query window therefore ends
// a configurable delay before the measurement time. Load balancer counters
// are published only when non-zero, so an absent datapoint is, by default,
// a zero (plan.MissingZero).
package cloudwatch
