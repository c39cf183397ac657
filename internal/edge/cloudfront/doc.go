// Package cloudfront is cutover's adapter for the CloudFront control plane.
//
// It covers what moving a hostname between distributions needs and nothing
// else: reading a distribution, editing its alternate domain names under
// CloudFront's ETag/If-Match concurrency control, waiting for a change to
// deploy, finding who holds an alias, moving an alias in one step
// (AssociateAlias, with its `_<alias>` TXT proof), continuous deployment
// (staging copy, policy, promote, abort), and WatchAlias, which notices the
// moment an alias lands on a distribution so DNS can follow at once.
//
// It returns the SDK-free types of package cdn (Distribution, Traffic) and
// translates the refusals that mean something to a caller into cdn's
// sentinel errors (cdn.ErrNotFound, cdn.ErrCallerRefUsed,
// cdn.ErrStagingInUse, cdn.ErrAliasTaken), keeping CloudFront's own error
// in the chain, so no caller reads an API error code.
//
// The SDK sits behind the narrow interface api, of just the calls used.
// Every call draws from a token bucket shared by the whole process, because
// CloudFront publishes no control-plane rate and answers a busy caller with
// Throttling; the adapter retries Throttling itself (the SDK's own retryer
// is off) so backoff happens on the injected clock and under the budget.
package cloudfront
