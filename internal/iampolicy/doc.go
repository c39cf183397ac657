// Package iampolicy computes the least-privilege IAM policy a plan's run
// needs: every action, on the resources the plan names, that reading the
// world (plan), applying it (forward and every rollback the runbook can
// unwind to), its gates and verify's CloudFront diagnosis can call — one
// policy per principal, the caller's own credentials and each role the
// plan assumes, with the role's account in its ARNs.
//
// It needs no AWS access: the runbook is compiled against a world
// synthesized from the plan (the hostname served by the from edge), so the
// policy can be created before the credentials it is for. Which operation
// needs which IAM action comes from the adapters' own tables
// (route53.Permissions, cloudfront.Permissions, …); this package only says
// which operations each part of a run makes, mirroring the engine's one
// switch over step kinds.
package iampolicy
