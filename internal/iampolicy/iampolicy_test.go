package iampolicy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/iam"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
)

func newCollector(p *plan.Plan) *collector {
	return &collector{p: p, grants: map[string]*iam.Grants{}, why: map[string]map[[2]string]map[string]bool{}, names: map[string]bool{}, unverified: map[string]bool{}}
}

func load(t *testing.T, body string) *plan.Plan {
	t.Helper()
	p, err := plan.Parse("plan.yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const cdnPlan = `apiVersion: cutover/v1
kind: Cutover
name: cdn
hostname: cdn.example.com
zone: {id: Z1}
from: {cloudfront: E1OLDDISTRIB01}
to: {cloudfront: E2NEWDISTRIB02}
`

// TestEveryStepKindHasPermissions fills each field of runbook.Step in turn
// (and each staging operation): a kind the engine can run but this package
// does not map fails here, instead of yielding a policy that lacks it.
func TestEveryStepKindHasPermissions(t *testing.T) {
	typ := reflect.TypeOf(runbook.Step{})
	kinds := 0
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Type.Kind() != reflect.Pointer {
			continue
		}
		kinds++
		var s runbook.Step
		v := reflect.New(f.Type.Elem())
		switch x := v.Interface().(type) {
		case *runbook.Staging:
			x.Op = runbook.StagingCopy
		case *runbook.Deployed:
			x.Distributions = []string{"E2NEWDISTRIB02"}
		}
		reflect.ValueOf(&s).Elem().Field(i).Set(v)
		c := newCollector(load(t, cdnPlan))
		c.step(s, "apply")
		if c.err != nil {
			t.Errorf("step field %s: %v", f.Name, c.err)
		}
	}
	if kinds < 12 {
		t.Fatalf("%d step kinds found by reflection; the test no longer sees runbook.Step", kinds)
	}
	for _, op := range []string{runbook.StagingCopy, runbook.StagingPolicy, runbook.StagingTraffic, runbook.StagingPromote, runbook.StagingAbort, "future"} {
		c := newCollector(load(t, cdnPlan))
		c.step(runbook.Step{Staging: &runbook.Staging{Op: op, Primary: "E2NEWDISTRIB02"}}, "apply")
		if (c.err != nil) != (op == "future") {
			t.Errorf("staging %s: err %v", op, c.err)
		}
	}
	c := newCollector(load(t, cdnPlan))
	c.step(runbook.Step{ID: "9"}, "apply")
	if c.err == nil || !strings.Contains(c.err.Error(), "step 9 (empty)") {
		t.Fatalf("an unknown step kind: %v", c.err)
	}
}

// TestAutoBetweenDistributionsAssumesOneAccount: strategy auto compiles as
// alias-move when nothing says the accounts differ, and as bridge when the
// roles put the distributions in two accounts.
func TestAutoBetweenDistributionsAssumesOneAccount(t *testing.T) {
	res, err := ForPlan(load(t, cdnPlan), Options{Account: "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Strategy != "alias-move" || len(res.Policies) != 1 || !strings.Contains(strings.Join(res.Notes, " "), "strategy auto compiled as alias-move") {
		t.Fatalf("result %+v", res)
	}
	doc := res.Policies[0].Document
	if !doc.Allows("cloudfront:AssociateAlias", "arn:aws:cloudfront::111111111111:distribution/E2NEWDISTRIB02") ||
		doc.Allows("cloudfront:AssociateAlias", "arn:aws:cloudfront::222222222222:distribution/E2NEWDISTRIB02") {
		t.Fatalf("AssociateAlias grants: %+v", doc)
	}
	cross := strings.Replace(cdnPlan, "from: {cloudfront: E1OLDDISTRIB01}", "from: {cloudfront: E1OLDDISTRIB01, role_arn: 'arn:aws:iam::222222222222:role/old'}", 1) +
		"bridge: {endpoint: bridge.example.net, rewrite_host: cdn-new.example.com}\n"
	res, err = ForPlan(load(t, cross), Options{Account: "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Strategy != "bridge" || len(res.Policies) != 2 || res.Policies[1].Principal != "arn:aws:iam::222222222222:role/old" {
		t.Fatalf("cross-account result %+v", res)
	}
	caller, old := res.Policies[0].Document, res.Policies[1].Document
	if !caller.Allows("sts:AssumeRole", "arn:aws:iam::222222222222:role/old") {
		t.Fatal("the caller may not assume the old distribution's role")
	}
	if !old.Allows("cloudfront:UpdateDistribution", "arn:aws:cloudfront::222222222222:distribution/E1OLDDISTRIB01") || caller.Allows("cloudfront:UpdateDistribution", "arn:aws:cloudfront::111111111111:distribution/E1OLDDISTRIB01") {
		t.Fatal("the old distribution is changed with the wrong principal")
	}
	if old.Allows("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z1") {
		t.Fatal("the distribution's role is granted the zone")
	}
}

// TestDNSOnlyPlanNeedsNoCloudFront: a plan between two endpoints is
// Route 53 alone, on its zone.
func TestDNSOnlyPlanNeedsNoCloudFront(t *testing.T) {
	res, err := ForPlan(load(t, `apiVersion: cutover/v1
kind: Cutover
name: www
hostname: www.example.com
zone: {id: Z1}
from: {endpoint: old.example.net}
to: {endpoint: new.example.net}
strategy: flip
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Policies) != 1 {
		t.Fatalf("%d policies", len(res.Policies))
	}
	got := strings.Join(iamActions(res.Policies[0].Document), " ")
	if got != "route53:ChangeResourceRecordSets route53:GetChange route53:GetHostedZone route53:ListHealthChecks route53:ListHostedZones route53:ListResourceRecordSets" {
		t.Fatalf("actions %s", got)
	}
}

func iamActions(d iam.Document) []string {
	g := iam.NewGrants()
	for _, s := range d.Statement {
		g.Add("*", s.Action...)
	}
	return g.Actions()
}

func TestSizeNoteOverTheManagedPolicyQuota(t *testing.T) {
	g := iam.NewGrants()
	for i := range 200 {
		g.Add("arn:aws:cloudfront::111111111111:distribution/E"+strings.Repeat("X", 12)+string(rune('A'+i%26))+string(rune('A'+i/26)), "cloudfront:GetDistribution")
	}
	if n := sizeNote(Policy{Principal: "arn:aws:iam::1:role/r", Document: g.Document()}); !strings.Contains(n, "over IAM's 6144") || !strings.Contains(n, "arn:aws:iam::1:role/r") {
		t.Fatalf("note %q", n)
	}
	small := iam.NewGrants()
	small.Add("*", "cloudwatch:GetMetricData")
	if n := sizeNote(Policy{Document: small.Document()}); n != "" {
		t.Fatalf("a small policy has the note %q", n)
	}
}
