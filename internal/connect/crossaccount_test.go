package connect_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
)

// Three accounts and a hub: the zone lives in A, the old distribution in
// B, the new one in C. The caller (the lab's default account) may assume
// only the hub role; each account trusts only the hub, and A also wants
// an external id.
const (
	hubRole  = "arn:aws:iam::444444444444:role/hub"
	zoneRole = "arn:aws:iam::555555555555:role/dns"
	oldRole  = "arn:aws:iam::666666666666:role/cdn-old"
	newRole  = "arn:aws:iam::777777777777:role/cdn-new"
)

const crossSeed = `
certificates:
  - {name: old-cert, account: "666666666666", domains: ["*.example.com"]}
  - {name: new-cert, account: "777777777777", domains: ["*.example.com"]}
distributions:
  - {name: old, account: "666666666666", aliases: [shop.example.com], certificate: old-cert, origin: {domain: 127.0.0.1, http_port: 8081}}
  - {name: new, account: "777777777777", aliases: [shop-new.example.com], certificate: new-cert, origin: {domain: 127.0.0.1, http_port: 8082}}
roles:
  - {arn: "` + hubRole + `", trust: ["111111111111"]}
  - {arn: "` + zoneRole + `", trust: ["` + hubRole + `"], external_id: zone-ext-1}
  - {arn: "` + oldRole + `", trust: ["` + hubRole + `"]}
  - {arn: "` + newRole + `", trust: ["` + hubRole + `"]}
zones:
  - {name: example.com, account: "555555555555"}
records:
  - {zone: example.com, name: shop.example.com, type: A, alias: {distribution: old}}
`

// assumeCounter counts the AssumeRole calls that reach the lab.
type assumeCounter struct {
	next http.Handler
	mu   sync.Mutex
	n    map[string]int // by role ARN
}

func (c *assumeCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.Contains(r.Header.Get("Authorization"), "/sts/") {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if q, err := url.ParseQuery(string(body)); err == nil && q.Get("Action") == "AssumeRole" {
			c.mu.Lock()
			c.n[q.Get("RoleArn")]++
			c.mu.Unlock()
		}
	}
	c.next.ServeHTTP(w, r)
}

func (c *assumeCounter) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

func startCrossAccountLab(t *testing.T) (*lab.Seeded, *assumeCounter) {
	t.Helper()
	l := lab.New(lab.Options{Propagation: -1, DeployDelay: -1, RateLimit: route53.RateLimitOff})
	s, err := lab.ParseSeed("seed.yaml", []byte(crossSeed))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := l.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	counter := &assumeCounter{next: l, n: map[string]int{}}
	srv := httptest.NewServer(counter)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            srv.URL,
		"AWS_ACCESS_KEY_ID":           awsapi.DefaultAccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       awsapi.DefaultSecretAccessKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
	} {
		t.Setenv(k, v)
	}
	return seeded, counter
}

func crossPlan(t *testing.T, seeded *lab.Seeded) *plan.Plan {
	t.Helper()
	body := fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: shop-accounts
hostname: shop.example.com
zone:
  id: %s
  role_arn: %s
  role_chain: [%s]
  external_id: zone-ext-1
  session_name: cutover-zone
from:
  cloudfront: %s
  role_arn: %s
  role_chain: [%s]
to:
  cloudfront: %s
  role_arn: %s
  role_chain: [%s]
strategy: bridge
hold: 10m
bridge:
  endpoint: bridge.example.net
  rewrite_host: shop-new.example.com
`, strings.TrimPrefix(seeded.Zones["example.com"], "/hostedzone/"), zoneRole, hubRole,
		seeded.Distributions["old"].ID, oldRole, hubRole, seeded.Distributions["new"].ID, newRole, hubRole)
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return mustLoad(t, path)
}

// TestCrossAccountRoleChains plans and connects a move whose zone and two
// distributions live in three accounts, each reached through the hub:
// nothing is visible with the caller's own credentials, so every read
// that succeeds went through its role chain. Each role is assumed once
// per run however many calls use it, and the plan names the identity of
// every call.
func TestCrossAccountRoleChains(t *testing.T) {
	seeded, counter := startCrossAccountLab(t)
	ctx := context.Background()
	p := crossPlan(t, seeded)

	// Without the roles, the caller's account sees neither the zone nor the
	// distributions.
	bare := *p
	bare.Zone.RoleARN, bare.Zone.RoleChain, bare.Zone.ExternalID, bare.Zone.SessionName = "", nil, "", ""
	if _, err := observe.Compile(ctx, &bare, connect.ObserveDeps(observe.Access(&bare))); err == nil {
		t.Fatal("the zone of account A was read with the caller's own credentials")
	}

	c, err := observe.Compile(ctx, p, connect.ObserveDeps(observe.Access(p)))
	if err != nil {
		t.Fatal(err)
	}
	rb := c.Runbook
	if rb.ZoneRoleARN != zoneRole || rb.CDNRoleARN != newRole || rb.DistributionRoles[seeded.Distributions["old"].ID] != oldRole {
		t.Fatalf("runbook roles: zone %q cdn %q distributions %v", rb.ZoneRoleARN, rb.CDNRoleARN, rb.DistributionRoles)
	}
	if id := rb.Identities[zoneRole]; len(id.Chain) != 1 || id.Chain[0] != hubRole || id.ExternalID != "zone-ext-1" || id.SessionName != "cutover-zone" {
		t.Fatalf("zone identity %+v", id)
	}
	var buf bytes.Buffer
	runbook.Render(&buf, rb, c.From, c.To, observe.AssumedInSync)
	for _, want := range []string{
		"zone " + rb.Zone + ": Route 53 as " + zoneRole + " (via " + hubRole + "), with an external id, session cutover-zone",
		"distributions: CloudFront as " + newRole + " (via " + hubRole + "), session cutover",
		"distribution " + seeded.Distributions["old"].ID + ": CloudFront as " + oldRole + " (via " + hubRole + "), session cutover",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("plan output lacks %q:\n%s", want, buf.String())
		}
	}

	// The engine's adapters, built from the stored runbook alone.
	before := counter.counts()
	o, err := connect.EngineOptions(ctx, rb)
	if err != nil {
		t.Fatal(err)
	}
	acc, ok := o.CDN.(*cloudfront.Accounts)
	if !ok {
		t.Fatalf("CDN = %T, want *cloudfront.Accounts", o.CDN)
	}
	for range 3 {
		for _, name := range []string{"old", "new"} {
			id := seeded.Distributions[name].ID
			d, err := acc.For(id).Distribution(ctx, id)
			if err != nil {
				t.Fatalf("reading distribution %s through its account's role: %v", name, err)
			}
			if d.ID != id {
				t.Fatalf("read %s, got %s", id, d.ID)
			}
		}
		if _, err := o.Provider.Records(ctx, rb.Zone, rb.Hostname); err != nil {
			t.Fatalf("reading the zone through account A's role: %v", err)
		}
	}
	after := counter.counts()
	// One Credentials per run: each target role once, and the hub once
	// for each chain it starts.
	for role, want := range map[string]int{zoneRole: 1, oldRole: 1, newRole: 1, hubRole: 3} {
		if got := after[role] - before[role]; got != want {
			t.Errorf("AssumeRole %s: %d calls for the engine's adapters, want %d", role, got, want)
		}
	}
}

// TestCrossAccountBridgeRuns runs the cross-account move to the end on the
// engine (fake clock; the lab answers at once): every write — the zone's
// weights in A, the alias leaving B's distribution and landing on C's —
// goes through its own role chain, and the hostname ends on the new
// distribution.
func TestCrossAccountBridgeRuns(t *testing.T) {
	seeded, counter := startCrossAccountLab(t)
	ctx := context.Background()
	p := crossPlan(t, seeded)
	c, err := observe.Compile(ctx, p, connect.ObserveDeps(observe.Access(p)))
	if err != nil {
		t.Fatal(err)
	}
	o, err := connect.EngineOptions(ctx, c.Runbook)
	if err != nil {
		t.Fatal(err)
	}
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := memstore.New(memstore.Options{Clock: clk})
	o.Clock, o.Store = clk, st
	if _, err := engine.Create(ctx, st, c.Runbook, "plan.yaml", "digest", clk.Now()); err != nil {
		t.Fatal(err)
	}
	before := counter.counts()
	run, err := engine.New(o).Run(ctx, c.Runbook.Name)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateDone {
		evs, _ := st.Events(ctx, c.Runbook.Name, 0)
		for _, ev := range evs {
			t.Logf("%s %s", ev.Type, ev.Message)
		}
		t.Fatalf("run %s: %s", run.State, run.Reason)
	}
	recs, err := o.Provider.Records(ctx, c.Runbook.Zone, "shop.example.com")
	if err != nil {
		t.Fatal(err)
	}
	newDomain := seeded.Distributions["new"].DomainName
	if len(recs) != 1 || recs[0].Alias == nil || !strings.EqualFold(strings.TrimSuffix(recs[0].Alias.DNSName, "."), newDomain) {
		t.Fatalf("shop.example.com after the run: %v, want an alias to %s", recs, newDomain)
	}
	acc := o.CDN.(*cloudfront.Accounts)
	newID, oldID := seeded.Distributions["new"].ID, seeded.Distributions["old"].ID
	nd, err := acc.For(newID).Distribution(ctx, newID)
	if err != nil || !nd.HasAlias("shop.example.com") {
		t.Fatalf("new distribution %v, %v: want it to hold shop.example.com", nd.Aliases, err)
	}
	od, err := acc.For(oldID).Distribution(ctx, oldID)
	if err != nil || od.HasAlias("shop.example.com") {
		t.Fatalf("old distribution %v, %v: want the alias gone", od.Aliases, err)
	}
	after := counter.counts()
	for role, want := range map[string]int{zoneRole: 1, oldRole: 1, newRole: 1} {
		if got := after[role] - before[role]; got > want {
			t.Errorf("AssumeRole %s: %d calls during the run, want at most %d (credentials resolved once)", role, got, want)
		}
	}
}
