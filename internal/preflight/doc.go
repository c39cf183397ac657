// Package preflight checks, before any DNS change, that a plan's new edge
// can take the hostname's traffic, and, at the end of the hold, that
// nothing still depends on the old edge (Decommission). Each check returns
// a Result: a stable Name (what `--waive NAME` refers to), a Status (PASS,
// WARN or FAIL), the Evidence it read (the value, and from which API or
// server) and a Detail saying what follows from it.
//
// Checks read the world through small interfaces (World) that the AWS
// adapters in preflight/awsread satisfy: ACM DescribeCertificate, ELBv2
// listeners and DescribeTargetHealth, CloudFront GetDistribution and
// ListConflictingAliases, Route 53 zones and records, CloudWatch
// DescribeAlarms and GetMetricData. DNS questions go over the wire with
// dnsquery, and the marker fetch uses the probe gate's client, which sends
// the hostname's real Host and SNI to a chosen edge address.
package preflight
