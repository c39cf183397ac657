// Package cloudfront is the lab's CloudFront control plane: a wire-compatible
// REST-XML (2020-05-31) emulator that aws-sdk-go-v2 and the aws CLI talk to
// unchanged.
//
// It keeps what matters for moving a hostname between distributions honest:
// an alternate domain name lives on one distribution across every lab
// account (CNAMEAlreadyExists), each alias must be covered by an ISSUED
// certificate, updates are guarded by ETags (If-Match), a change is
// InProgress until a deploy delay measured on the injected clock has passed,
// AssociateAlias needs its `_<alias>` TXT proof and refuses to take an alias
// from an enabled distribution in another account, and continuous deployment
// (staging copy, policy, promote) follows AWS's rules.
//
// The DistributionConfig a client sends is kept whole as an XML tree, so Get
// returns what was put; only the fields the lab reasons about are parsed out
// of it. Besides the HTTP API the Service offers a plain Go API (List,
// Resolve, CreateDistributionFor) for the lab's seed file and data plane.
package cloudfront
