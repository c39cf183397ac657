// Package iampolicy computes the least-privilege IAM policy a plan's run
// needs: every action, on the resources the plan names, that reading the
// world (plan), the preflight checks (plan, preflight, the start of
// apply), applying it (forward and every rollback the runbook can unwind
// to), its gates, the decommission checks (the end of the hold,
// decommission-check) and verify's CloudFront diagnosis can call — one
// policy per principal, the caller's own credentials and each role the
// plan assumes, with the role's account in its ARNs. A role reached
// through a role_chain is assumed hop by hop: each principal of the chain
// is granted sts:AssumeRole on the next. A zone on an RFC 2136 server is
// changed over DNS with TSIG and needs no Route 53 permission.
//
// It needs no AWS access: the runbook is compiled against a world
// synthesized from the plan (the hostname served by the from edge), so the
// policy can be created before the credentials it is for. Which operation
// needs which IAM action comes from the adapters' own tables
// (route53.Permissions, cloudfront.Permissions, …); this package only says
// which operations each part of a run makes, mirroring the engine's one
// switch over step kinds.
package iampolicy
