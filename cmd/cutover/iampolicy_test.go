package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	awsr53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/awsconfig/mototest"
	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/dns/rfc2136"
	"github.com/cutover/cutover/internal/dns/rfc2136/knottest"
	"github.com/cutover/cutover/internal/golden"
	"github.com/cutover/cutover/internal/iam"
	"github.com/cutover/cutover/internal/iampolicy"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/labtest"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/verify"
)

// policiesFor runs `cutover iam-policy` on the plan: the JSON documents by
// principal ("" for the caller), and the structured result for the checks.
func policiesFor(t *testing.T, planPath string) map[string]iam.Document {
	t.Helper()
	out, err := runCLI(t, "", "iam-policy", "-f", planPath, "-o", "json")
	if err != nil {
		t.Fatalf("iam-policy: %v\n%s", err, out)
	}
	p, err := plan.Load(planPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := iampolicy.ForPlan(p, iampolicy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]iam.Document{}
	if len(res.Policies) == 1 {
		var d iam.Document
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("-o json is not a policy document: %v\n%s", err, out)
		}
		docs[res.Policies[0].Principal] = d
		return docs
	}
	var byName map[string]iam.Document
	if err := json.Unmarshal([]byte(out), &byName); err != nil {
		t.Fatalf("-o json is not documents by principal: %v\n%s", err, out)
	}
	for name, d := range byName {
		if name == "caller" {
			name = ""
		}
		docs[name] = d
	}
	return docs
}

// principalOf maps the identity the lab logged to the policy's principal:
// the caller's own user, or the role an assumed-role session belongs to.
func principalOf(caller string) string {
	rest, ok := strings.CutPrefix(caller, "arn:aws:sts::")
	if !ok {
		return ""
	}
	account, path, _ := strings.Cut(rest, ":assumed-role/")
	role, _, _ := strings.Cut(path, "/")
	return "arn:aws:iam::" + account + ":role/" + role
}

// checkPolicies is the acceptance check: every call the lab saw is allowed
// by its principal's policy, under IAM's matching, for each IAM action the
// adapters' tables say its operation needs; and every action a policy
// grants was needed by some call, on each resource it is granted on, but
// for the listed ones, by action or by "action resource" (each with the
// reason the run did not take its path).
func checkPolicies(t *testing.T, docs map[string]iam.Document, calls []awsapi.Call, notTaken map[string]string) {
	t.Helper()
	used := map[string]map[string]bool{}
	// resources are the resources each principal's calls needed each
	// action on, for the resource half of "nothing unneeded".
	resources := map[string]map[string][]string{}
	for _, c := range calls {
		if c.Service == "sts" && c.Operation == "GetCallerIdentity" {
			continue // needs no permission
		}
		perm, ok := iampolicy.Permissions.For(c.Operation)
		if !ok {
			t.Errorf("call %s:%s (seq %d) has no permission entry in any adapter's table", c.Service, c.Operation, c.Seq)
			continue
		}
		principal := principalOf(c.Caller)
		doc, ok := docs[principal]
		if !ok {
			t.Errorf("call %s:%s by %s: the plan's policies have no principal %q", c.Service, c.Operation, c.Caller, principal)
			continue
		}
		resource := c.Resource
		if resource == "" {
			resource = "*"
		}
		for _, a := range perm.Actions {
			if svc, _, _ := strings.Cut(a, ":"); svc != c.Service {
				t.Errorf("call %s:%s needs %s, of another service", c.Service, c.Operation, a)
			}
			if !doc.AllowsRequest(a, resource, c.Context) {
				t.Errorf("the policy of %q does not allow %s on %s (call %s, seq %d)", principal, a, resource, c.Operation, c.Seq)
			}
			if used[principal] == nil {
				used[principal] = map[string]bool{}
			}
			used[principal][a] = true
			if resources[principal] == nil {
				resources[principal] = map[string][]string{}
			}
			resources[principal][strings.ToLower(a)] = append(resources[principal][strings.ToLower(a)], resource)
		}
	}
	granted := 0
	for principal, doc := range docs {
		for _, s := range doc.Statement {
			for _, a := range s.Action {
				granted++
				if notTaken[a] != "" {
					continue
				}
				if !used[principal][a] {
					t.Errorf("the policy of %q grants %s, which the run never needed", principal, a)
					continue
				}
				for _, r := range s.Resource {
					if !matchesAny(r, resources[principal][strings.ToLower(a)]) && notTaken[a+" "+r] == "" {
						t.Errorf("the policy of %q grants %s on %s, where the run never needed it", principal, a, r)
					}
				}
			}
		}
	}
	t.Logf("%d calls checked against %d policies granting %d actions (%d listed as paths not taken)", len(calls), len(docs), granted, len(notTaken))
	if t.Failed() {
		for _, c := range calls {
			t.Logf("call %d %s %s:%s %s %d", c.Seq, c.Caller, c.Service, c.Operation, c.Resource, c.Status)
		}
	}
}

// matchesAny reports whether the granted resource pattern matches one of
// the resources calls needed.
func matchesAny(pattern string, needed []string) bool {
	for _, r := range needed {
		if iam.Match(pattern, r) {
			return true
		}
	}
	return false
}

const weightedSeed = `
certificates:
  - {name: api, domains: [api.example.com]}
load_balancers:
  - {name: api-old, targets: ["127.0.0.1:8081"]}
  - {name: api-new, targets: ["127.0.0.1:8082"]}
zones:
  - name: example.com
records:
  - {zone: example.com, name: api.example.com, type: A, alias: {load_balancer: api-old}}
`

// TestIAMPolicyAllowsEveryCallOfAWeightedRunWithRollback runs plan and
// apply of a weighted ALB move whose CloudWatch gate breaches at 10 %, so
// the run rolls back, then checks the generated policy against every call
// the lab saw.
func TestIAMPolicyAllowsEveryCallOfAWeightedRunWithRollback(t *testing.T) {
	l, seeded := labtest.Start(t, weightedSeed)
	zone := seeded.Zones["example.com"]
	planPath := writePlanFile(t, "plan.yaml", fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: api-move
hostname: api.example.com
zone: {id: %s}
from: {alb: %s}
to: {alb: %s}
strategy: weighted
ttl: {cutover: 1}
hold: 0s
steps:
  - {weight: 10, pause: 2s}
  - {weight: 100}
gates:
  - name: new-5xx
    interval: 100ms
    on_failure: rollback
    cloudwatch:
      metric: {namespace: AWS/ApplicationELB, name: HTTPCode_Target_5XX_Count, dimensions: {LoadBalancer: app/api-new/1}, stat: Sum}
      threshold: 0
      missing: breach
`, zone, seeded.LoadBalancers["api-old"].DNSName, seeded.LoadBalancers["api-new"].DNSName))
	before, _ := l.Route53.Records(zone)
	start := l.Env.Calls.Len()

	if out, err := runCLI(t, "", "plan", "-f", planPath); err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	state := filepath.Join(t.TempDir(), "state.db")
	out, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--poll", "20ms", "--auto-approve")
	if exitCode(err) != exitFailure {
		t.Fatalf("apply with a breaching gate: %v, want exit %d (rolled back)\n%s", err, exitFailure, out)
	}
	after, _ := l.Route53.Records(zone)
	if a, b := mustJSON(t, after), mustJSON(t, before); a != b {
		t.Fatalf("the rollback left\n%s\nwant\n%s", a, b)
	}
	calls := l.Env.Calls.List(awsapi.CallFilter{SinceSeq: start})
	writes := 0
	for _, c := range calls {
		if c.Operation == "ChangeResourceRecordSets" {
			writes++
		}
	}
	if writes < 2 {
		t.Fatalf("%d record changes: the run did not go forward and back\n%s", writes, out)
	}
	if !strings.Contains(out, "PASS  cert-covers") {
		t.Fatalf("preflight did not read the certificate covering the hostname:\n%s", out)
	}
	// The old load balancer still serves after the rollback: the
	// checklist fails, having read what it needs.
	if out, err := runCLI(t, "", "decommission-check", "-f", planPath); exitCode(err) != exitFailure || !strings.Contains(out, "FAIL  old-records") {
		t.Fatalf("decommission-check after the rollback: %v, want exit %d with old-records failing\n%s", err, exitFailure, out)
	}
	calls = l.Env.Calls.List(awsapi.CallFilter{SinceSeq: start})
	checkPolicies(t, policiesFor(t, planPath), calls, nil)
}

const aliasMoveSeed = `
roles:
  - arn: arn:aws:iam::333333333333:role/hop
    trust: ["111111111111"]
  - arn: arn:aws:iam::222222222222:role/cdn
    trust: ["arn:aws:iam::333333333333:role/hop"]
certificates:
  - {name: cdn, account: "222222222222", domains: [cdn.example.com]}
distributions:
  - {name: old, account: "222222222222", aliases: [cdn.example.com], certificate: cdn, origin: {domain: 127.0.0.1, http_port: 8081}}
  - {name: new, account: "222222222222", certificate: cdn, origin: {domain: 127.0.0.1, http_port: 8082}}
zones:
  - name: example.com
records:
  - {zone: example.com, name: cdn.example.com, type: CNAME, ttl: 1, alias: {distribution: old}}
`

// TestIAMPolicyAllowsEveryCallOfAnAliasMoveAcrossAccounts moves a
// CloudFront alias whose distributions live in another account, reached
// through a role assumed by way of a third account's role (a role chain),
// while the zone is the caller's own; the hold's end runs the decommission
// checks; then verify's diagnosis asks who answers. Each call is checked
// against its principal's policy: the caller's (Route 53, preflight and
// decommission reads, AssumeRole on the first hop), the hop's (AssumeRole
// on the CloudFront role, nothing else) and the role's (CloudFront, ACM,
// CloudWatch, in the role's account).
func TestIAMPolicyAllowsEveryCallOfAnAliasMoveAcrossAccounts(t *testing.T) {
	l, seeded := labtest.Start(t, aliasMoveSeed)
	zone := seeded.Zones["example.com"]
	oldID, newID := seeded.Distributions["old"].ID, seeded.Distributions["new"].ID
	role, hop := "arn:aws:iam::222222222222:role/cdn", "arn:aws:iam::333333333333:role/hop"
	planPath := writePlanFile(t, "plan.yaml", fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: cdn-move
hostname: cdn.example.com
zone: {id: %s}
from: {cloudfront: %s, role_arn: %s, role_chain: [%s]}
to: {cloudfront: %s, role_arn: %s, role_chain: [%s]}
strategy: alias-move
alias_move: {mode: associate, poll: 50ms, settle: 10ms}
ttl: {cutover: 1}
hold: 100ms
`, zone, oldID, role, hop, newID, role, hop))
	start := l.Env.Calls.Len()
	if out, err := runCLI(t, "", "plan", "-f", planPath); err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}

	state := filepath.Join(t.TempDir(), "state.db")
	out, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--poll", "20ms", "--auto-approve")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if d, _ := l.CloudFront.Get(newID); !contains(d.Aliases, "cdn.example.com") {
		t.Fatalf("the alias did not move: %s holds %v\n%s", newID, d.Aliases, out)
	}
	if !strings.Contains(out, "decommission") {
		t.Fatalf("the hold's end recorded no decommission checklist:\n%s", out)
	}
	// verify's diagnosis, with the plan's CloudFront role.
	ctx := context.Background()
	cfg, err := connect.NewCredentials(map[string]runbook.Identity{role: {Chain: []string{hop}}}).Config(ctx, "", role)
	if err != nil {
		t.Fatal(err)
	}
	dg := verify.NewDiagnoser(cloudfront.NewFromConfig(cfg)).Diagnose(ctx, "cdn.example.com", newID, nil)
	if len(dg.Errors) > 0 {
		t.Fatalf("diagnosis: %v", dg.Errors)
	}

	calls := l.Env.Calls.List(awsapi.CallFilter{SinceSeq: start})
	docs := policiesFor(t, planPath)
	if len(docs) != 3 {
		t.Fatalf("%d policies, want the caller's, the hop's and the role's", len(docs))
	}
	for _, s := range docs[hop].Statement {
		if strings.Join(s.Action, " ") != "sts:AssumeRole" || strings.Join(s.Resource, " ") != role {
			t.Errorf("the hop's policy grants %v on %v, want only sts:AssumeRole on %s", s.Action, s.Resource, role)
		}
	}
	for _, s := range docs[""].Statement {
		for _, r := range s.Resource {
			if r == role {
				t.Errorf("the caller is granted %v on %s, which only the hop assumes", s.Action, role)
			}
		}
	}
	for _, s := range docs[role].Statement {
		for _, r := range s.Resource {
			if strings.Contains(r, "cloudfront") && !strings.Contains(r, "::222222222222:") {
				t.Errorf("the role's CloudFront grant %s is not in the role's account", r)
			}
		}
	}
	oldARN := "arn:aws:cloudfront::222222222222:distribution/" + oldID
	checkPolicies(t, docs, calls, map[string]string{
		// The observe step asks CloudFront who holds the hostname only
		// when neither distribution does; here the old one does. The
		// diagnosis calls it, so it is checked on that path.
		"cloudfront:AssociateAlias " + oldARN:     "the rollback associates the alias back to the old distribution; this run went forward",
		"cloudfront:UpdateDistribution " + oldARN: "AssociateAlias's second action, on the rollback's target",
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// policyPlans are the plans whose policies have golden files: every
// example, and the test plans beside the goldens (a maintenance that
// inverts a health check, a role chain).
func policyPlans(t *testing.T) []string {
	t.Helper()
	examples, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("examples: %v %v", examples, err)
	}
	extra, err := filepath.Glob("testdata/iam-policy/*.yaml")
	if err != nil || len(extra) < 2 {
		t.Fatalf("testdata plans: %v %v", extra, err)
	}
	return append(examples, extra...)
}

// TestIAMPolicyGolden renders the policy of every example plan (and the
// test plans beside the goldens), as text and as JSON, and compares each
// with its golden file.
func TestIAMPolicyGolden(t *testing.T) {
	examples := policyPlans(t)
	for _, ex := range examples {
		name := strings.TrimSuffix(filepath.Base(ex), ".yaml")
		for _, format := range []string{"text", "json"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				args := []string{"iam-policy", "-f", ex, "-o", format}
				if name == "alias-move" {
					args = append(args, "--account", "111111111111")
				}
				out, err := runCLI(t, "", args...)
				if err != nil {
					t.Fatalf("iam-policy: %v\n%s", err, out)
				}
				golden.Check(t, filepath.Join("testdata", "iam-policy", name+"."+format+".golden"), []byte(out))
			})
		}
	}
}

// TestIAMPolicyBadPlanExits2 prints nothing for an invalid plan and names
// the problem's position.
func TestIAMPolicyBadPlanExits2(t *testing.T) {
	bad := writePlanFile(t, "plan.yaml", "apiVersion: cutover/v1\nkind: Cutover\nname: x\nhostname: a.example.com\nzone: {id: Z1}\nfrom: {endpoint: a.example.net}\nto: {endpoint: b.example.net}\nsteps:\n  - weight: 10\n    pasue: 5m\n")
	out, err := runCLI(t, "", "iam-policy", "-f", bad, "-o", "json")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "plan.yaml:10:5") {
		t.Fatalf("bad plan: %v, want exit %d at plan.yaml:10:5", err, exitUsage)
	}
	if strings.Contains(out, "Statement") {
		t.Fatalf("a bad plan printed a policy:\n%s", out)
	}
	for _, args := range [][]string{
		{"iam-policy"},
		{"iam-policy", "-f", bad, "--account", "12345"},
		{"iam-policy", "-f", "../../examples/bridge.yaml", "--for", "arn:aws:iam::999999999999:role/nobody"},
	} {
		if _, err := runCLI(t, "", args...); exitCode(err) != exitUsage {
			t.Errorf("%v: %v, want exit %d", args, err, exitUsage)
		}
	}
}

// TestIAMPolicyForOnePrincipal prints one role's document alone.
func TestIAMPolicyForOnePrincipal(t *testing.T) {
	out, err := runCLI(t, "", "iam-policy", "-f", "../../examples/bridge.yaml", "-o", "json", "--for", "arn:aws:iam::222222222222:role/dns-cutover")
	if err != nil {
		t.Fatal(err)
	}
	var d iam.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Version != iam.PolicyVersion {
		t.Fatalf("not one document: %v\n%s", err, out)
	}
	for _, s := range d.Statement {
		for _, a := range s.Action {
			if !strings.HasPrefix(a, "route53:") {
				t.Errorf("the zone role is granted %s", a)
			}
		}
	}
}

// TestLabCallsListsReadsAndRefusals reads a running lab's call log through
// `cutover lab calls`, filtered by service and sequence.
func TestLabCallsListsReadsAndRefusals(t *testing.T) {
	l, seeded := labtest.Start(t, weightedSeed)
	zone := seeded.Zones["example.com"]
	planPath := writePlanFile(t, "plan.yaml", fmt.Sprintf("apiVersion: cutover/v1\nkind: Cutover\nname: api-move\nhostname: api.example.com\nzone: {id: %s}\nfrom: {alb: %s}\nto: {alb: %s}\n",
		zone, seeded.LoadBalancers["api-old"].DNSName, seeded.LoadBalancers["api-new"].DNSName))
	start := l.Env.Calls.Len()
	if out, err := runCLI(t, "", "plan", "-f", planPath); err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	out, err := runCLI(t, "", "lab", "calls", "--service", "route53", "--since", fmt.Sprint(start), "-o", "json")
	if err != nil {
		t.Fatalf("lab calls: %v\n%s", err, out)
	}
	var calls []awsapi.Call
	if err := json.Unmarshal([]byte(out), &calls); err != nil {
		t.Fatalf("lab calls -o json: %v\n%s", err, out)
	}
	// plan reads the records and the zone (its size, for the safety
	// brake), then its preflight lists the zones (an action without
	// resource-level permissions: no resource) and reads the records again.
	ops := map[string]int{}
	for _, c := range calls {
		ops[c.Operation]++
		if c.Service != "route53" || c.Status != 200 {
			t.Errorf("call %+v: want route53 answered 200", c)
		}
	}
	if len(calls) < 2 || calls[0].Operation != "ListResourceRecordSets" || calls[0].Resource != "arn:aws:route53:::hostedzone/"+zone ||
		ops["ListHostedZones"] != 1 || ops["GetHostedZone"] != 1 || len(ops) != 3 {
		t.Fatalf("route53 calls of plan: %+v", calls)
	}
	for _, c := range calls {
		if c.Operation == "ListHostedZones" && c.Resource != "" {
			t.Errorf("ListHostedZones logged on %q, want no resource", c.Resource)
		}
	}
	describes := 0
	for _, c := range l.Env.Calls.List(awsapi.CallFilter{SinceSeq: start}) {
		if c.Operation == "DescribeLoadBalancers" {
			describes++
		}
	}
	out, err = runCLI(t, "", "lab", "calls", "--since", fmt.Sprint(start))
	if err != nil || !strings.Contains(out, "STATUS") || describes < 2 || strings.Count(out, "DescribeLoadBalancers") != describes {
		t.Fatalf("lab calls text (%d DescribeLoadBalancers logged): %v\n%s", describes, err, out)
	}
}

const stagingSeed = `
certificates:
  - {name: cdn, domains: [cdn.example.com]}
distributions:
  - {name: primary, aliases: [cdn.example.com], certificate: cdn, origin: {domain: 127.0.0.1, http_port: 8081}}
zones:
  - name: example.com
records:
  - {zone: example.com, name: cdn.example.com, type: CNAME, ttl: 1, alias: {distribution: primary}}
`

// TestIAMPolicyAllowsEveryCallOfStagingRuns runs continuous deployment
// twice on one distribution: once aborted by a breaching gate (copy,
// policy, traffic, abort) and once promoted; every call the lab saw must
// be allowed, although the staging distribution and the policy get ids
// only at run time.
func TestIAMPolicyAllowsEveryCallOfStagingRuns(t *testing.T) {
	l, seeded := labtest.Start(t, stagingSeed)
	zone, primary := seeded.Zones["example.com"], seeded.Distributions["primary"].ID
	body := func(name, gate string) string {
		return fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: %s
hostname: cdn.example.com
zone: {id: %s}
from: {cloudfront: %s}
strategy: staging
staging:
  steps:
    - {weight: 0.05, pause: 300ms}
hold: 0s
%s`, name, zone, primary, gate)
	}
	breach := `gates:
  - name: staging-5xx
    interval: 100ms
    on_failure: rollback
    cloudwatch:
      metric: {namespace: AWS/CloudFront, name: 5xxErrorRate, dimensions: {DistributionId: ` + primary + `, Region: Global}, stat: Average}
      threshold: 1
      missing: breach
`
	start := l.Env.Calls.Len()
	state := filepath.Join(t.TempDir(), "state.db")
	// Each run pauses after the copy, for the new configuration; resume
	// goes on.
	run := func(name, gate string, want int) string {
		path := writePlanFile(t, "plan.yaml", body(name, gate))
		if out, err := runCLI(t, "", "apply", "-f", path, "--state", state, "--poll", "20ms", "--auto-approve"); exitCode(err) != exitPaused {
			t.Fatalf("apply %s: %v, want exit %d after the copy\n%s", name, err, exitPaused, out)
		}
		if out, err := runCLI(t, "", "resume", name, "--state", state); exitCode(err) != want {
			t.Fatalf("resume %s: %v, want exit %d\n%s", name, err, want, out)
		}
		return path
	}
	aborted := run("cdn-staging-abort", breach, exitFailure)
	run("cdn-staging-promote", "", 0)
	// The primary stays the hostname's edge: its decommission checklist
	// fails, having read what it needs.
	if out, err := runCLI(t, "", "decommission-check", "-f", aborted); exitCode(err) != exitFailure || !strings.Contains(out, "FAIL  old-records") {
		t.Fatalf("decommission-check: %v, want exit %d with old-records failing\n%s", err, exitFailure, out)
	}
	calls := l.Env.Calls.List(awsapi.CallFilter{SinceSeq: start})
	seen := map[string]bool{}
	for _, c := range calls {
		seen[c.Operation] = true
	}
	for _, op := range []string{"CopyDistribution", "CreateContinuousDeploymentPolicy", "UpdateDistributionWithStagingConfig", "DeleteDistribution", "DeleteContinuousDeploymentPolicy"} {
		if !seen[op] {
			t.Errorf("the runs never called %s", op)
		}
	}
	// Both plans have the same permissions but the gate's: check the
	// calls against the breaching plan's policy, which has them all.
	checkPolicies(t, policiesFor(t, aborted), calls, map[string]string{
		"cloudfront:ListDistributions": "verify's diagnosis, not run here",
	})
}

// TestIAMPolicyDocumentsAcceptedByMoto hands every example plan's policy
// documents to an IAM implementation cutover did not write (moto's, through
// the aws CLI): each must be accepted as a managed policy, while a broken
// document, the control, is refused.
func TestIAMPolicyDocumentsAcceptedByMoto(t *testing.T) {
	endpoint := mototest.Start(t)
	create := func(name string, doc []byte) awstest.CLIResult {
		path := filepath.Join(t.TempDir(), name+".json")
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return awstest.CLI(t, endpoint, "iam", "create-policy", "--policy-name", name, "--policy-document", "file://"+path)
	}
	examples := policyPlans(t)
	n := 0
	for _, ex := range examples {
		for principal, doc := range policiesFor(t, ex) {
			b, _ := json.Marshal(doc)
			n++
			name := fmt.Sprintf("%s-%d", strings.TrimSuffix(filepath.Base(ex), ".yaml"), n)
			if r := create(name, b); r.ExitCode != 0 {
				t.Errorf("moto refused the policy of %q for %s: %s\n%s", principal, ex, r.Stderr, b)
			}
		}
	}
	if want := len(examples) - 1; n < want {
		t.Fatalf("%d documents for %d examples, want one at least for each but rfc2136-flip (no AWS call)", n, len(examples))
	}
	for i, broken := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":["route53:GetChange"],"Resource":["*"]}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["route53:GetChange"],"Resource":["*"],"Condition":{"ForAllValues:StringEqualz":{"k":["v"]}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["route53"],"Resource":["*"]}]}`,
	} {
		if r := create(fmt.Sprintf("broken-%d", i), []byte(broken)); r.ExitCode == 0 || !strings.Contains(r.Stderr, "MalformedPolicyDocument") {
			t.Errorf("moto accepted a broken policy (a control): %d %s\n%s", r.ExitCode, r.Stderr, broken)
		}
	}
}

// TestIAMPolicyAllowsEveryCallOfAFlipOnAnRFC2136Zone moves a hostname
// between two lab load balancers on a zone served by a real Knot DNS,
// changed with TSIG-signed updates: the policy has no Route 53 action, and
// still allows every call the run made to AWS: preflight's reads of the
// new load balancer and its certificate, the decommission checks of the
// old load balancer (its alarms and request count) at the hold's end. (A
// gate would make flip observe for five minutes; the gates' grants are
// the weighted test's.)
func TestIAMPolicyAllowsEveryCallOfAFlipOnAnRFC2136Zone(t *testing.T) {
	l, seeded := labtest.Start(t, `
certificates:
  - {name: api, domains: [api.example.com]}
load_balancers:
  - {name: api-old, targets: ["127.0.0.1:8081"]}
  - {name: api-new, targets: ["127.0.0.1:8082"]}
`)
	oldLB, newLB := seeded.LoadBalancers["api-old"].DNSName, seeded.LoadBalancers["api-new"].DNSName
	k := knottest.Start(t, knottest.Options{Zone: "example.com", Records: []string{"api 2 IN CNAME " + oldLB + "."}})
	t.Setenv("CUTOVER_TEST_TSIG", k.Secret)
	planPath := writePlanFile(t, "plan.yaml", fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: api-knot
hostname: api.example.com
zone:
  provider: rfc2136
  name: example.com
  server: %s
  tsig: {name: %s, secret_env: CUTOVER_TEST_TSIG}
from: {alb: %s}
to: {alb: %s}
strategy: flip
ttl: {cutover: 1}
hold: 200ms
`, k.Addr, knottest.KeyName, oldLB, newLB))
	start := l.Env.Calls.Len()
	state := filepath.Join(t.TempDir(), "state.db")
	out, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--poll", "20ms", "--auto-approve")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	prov, err := rfc2136.New(rfc2136.Options{Server: k.Addr, TSIG: &rfc2136.TSIG{Name: knottest.KeyName, Secret: k.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := prov.Records(context.Background(), "example.com", "api.example.com")
	if err != nil || len(recs) != 1 || !strings.Contains(recs[0].String(), newLB) {
		t.Fatalf("zone after apply: %v %v\n%s", recs, err, out)
	}
	calls := l.Env.Calls.List(awsapi.CallFilter{SinceSeq: start})
	seen := map[string]bool{}
	for _, c := range calls {
		seen[c.Service+":"+c.Operation] = true
		if c.Service == "route53" {
			t.Errorf("the run called Route 53 (%s) for a zone on an RFC 2136 server", c.Operation)
		}
	}
	for _, op := range []string{"acm:ListCertificates", "elasticloadbalancing:DescribeTargetHealth", "cloudwatch:GetMetricData", "cloudwatch:DescribeAlarms"} {
		if !seen[op] {
			t.Errorf("the run never called %s: preflight, the gate or the decommission checks did not run", op)
		}
	}
	docs := policiesFor(t, planPath)
	for _, d := range docs {
		for _, s := range d.Statement {
			for _, a := range s.Action {
				if strings.HasPrefix(a, "route53:") {
					t.Errorf("the policy grants %s for a zone on an RFC 2136 server", a)
				}
			}
		}
	}
	checkPolicies(t, docs, calls, nil)
}

// TestIAMPolicyAllowsEveryCallOfAFailoverMaintenance applies a
// maintenance plan in failover mode that inverts the live record's health
// check: the run reads and updates exactly that health check, which the
// policy grants on arn:aws:route53:::healthcheck/ID and nowhere else.
func TestIAMPolicyAllowsEveryCallOfAFailoverMaintenance(t *testing.T) {
	l, seeded := labtest.Start(t, `
certificates:
  - {name: api, domains: [api.example.com]}
load_balancers:
  - {name: api-live, targets: ["127.0.0.1:8081"]}
  - {name: api-page, targets: ["127.0.0.1:8082"]}
zones:
  - name: example.com
records:
  - {zone: example.com, name: api.example.com, type: CNAME, ttl: 1, alias: {load_balancer: api-live}}
`)
	zone := seeded.Zones["example.com"]
	ctx := context.Background()
	cfg, err := connect.Config(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	hc, err := awsr53.NewFromConfig(cfg).CreateHealthCheck(ctx, &awsr53.CreateHealthCheckInput{
		CallerReference:   aws.String("api-live"),
		HealthCheckConfig: &r53types.HealthCheckConfig{Type: r53types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String("api.example.com"), ResourcePath: aws.String("/")},
	})
	if err != nil {
		t.Fatal(err)
	}
	hcID := aws.ToString(hc.HealthCheck.Id)
	planPath := writePlanFile(t, "plan.yaml", fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: api-maintenance
hostname: api.example.com
zone: {id: %s}
from: {alb: %s}
to: {alb: %s}
strategy: maintenance
maintenance: {mode: failover, health_check: %s, invert_health_check: true}
ttl: {cutover: 1}
`, zone, seeded.LoadBalancers["api-live"].DNSName, seeded.LoadBalancers["api-page"].DNSName, hcID))
	start := l.Env.Calls.Len()
	state := filepath.Join(t.TempDir(), "state.db")
	out, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--poll", "20ms", "--auto-approve")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	calls := l.Env.Calls.List(awsapi.CallFilter{SinceSeq: start})
	hcARN := "arn:aws:route53:::healthcheck/" + hcID
	updated := false
	for _, c := range calls {
		if c.Operation == "UpdateHealthCheck" && c.Resource == hcARN && c.Status == 200 {
			updated = true
		}
	}
	if !updated {
		t.Fatalf("the run never updated health check %s\n%s", hcID, out)
	}
	docs := policiesFor(t, planPath)
	if docs[""].Allows("route53:UpdateHealthCheck", "arn:aws:route53:::healthcheck/other") {
		t.Error("UpdateHealthCheck is granted on another health check")
	}
	checkPolicies(t, docs, calls, nil)
}
