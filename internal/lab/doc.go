// Package lab is cutover's built-in world: a local, wire-compatible stand-in
// for Route 53, CloudFront, CloudWatch, ACM, ELBv2 and STS behind one HTTP
// listener, so that aws-sdk-go-v2 and the aws CLI work unchanged with
// AWS_ENDPOINT_URL pointed at it.
//
// The lab is a separate world: it imports nothing of the engine, which
// reaches it only over the wire, the way it reaches AWS. Every emulated
// service follows the documented AWS behaviour (atomic change batches,
// exact-match DELETE, CNAMEAlreadyExists, ETag/IfMatch, InProgress→Deployed,
// rate limits); where it differs from AWS, that is a bug.
package lab
