// Package route53 is the dns.Provider for Amazon Route 53.
//
// Every write is compare-and-swap: a change's Old becomes a DELETE carrying
// the record set exactly as it was read, and its New a CREATE, in the order
// the change set gives, in one ChangeResourceRecordSets batch. Route 53
// applies a batch all-or-nothing and rejects a DELETE that does not match
// what it stores, so a record edited behind a run's back fails the whole
// batch instead of being overwritten. UPSERT is never sent: it would
// silently replace whatever is there.
//
// Those rejections come back as InvalidChangeBatch and are turned into a
// *dns.ConflictError carrying both what the batch expected and a fresh read
// of what the zone serves now.
//
// Route 53's API limits are per account and small (the legacy limit is five
// requests a second, shared with the console and every other tool), so all
// providers for one account share a client-side token bucket, and throttling
// or "prior request not complete" answers are retried here with capped,
// fully jittered exponential backoff. The SDK's own retryer is switched off
// for these calls so the two loops never multiply each other's attempts.
package route53
