// Package cdn holds what cutover knows about a CDN distribution in plain
// terms, free of any SDK: a Distribution as read, a continuous deployment
// Traffic split, and the sentinel errors an adapter translates its API's
// refusals into.
//
// The engine plans and executes CloudFront steps against these types and
// matches failures with errors.Is on the sentinels, so it never sees an
// API error code; internal/edge/cloudfront is the adapter that speaks the
// CloudFront API and returns them.
package cdn
