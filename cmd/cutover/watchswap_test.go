package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/route53"
)

const swapSeed = `
certificates:
  - {name: cert, domains: [example.com, "*.example.com"]}
distributions:
  - {name: old, aliases: [www.example.com], certificate: cert, origin: {domain: old.example.net}}
  - {name: new, certificate: cert, origin: {domain: new.example.net}}
zones:
  - name: example.com
records:
  - {zone: example.com, name: www.example.com, type: A, alias: {distribution: old}}
  - {zone: example.com, name: www.example.com, type: AAAA, alias: {distribution: old}}
  - {zone: example.com, name: api.example.com, type: CNAME, ttl: 60, values: [elsewhere.example.net]}
`

// swapWorld is a lab with www.example.com aliased to the old distribution
// and the TXT proof that lets the alias move to the new one.
type swapWorld struct {
	lab            *lab.Lab
	zone           string
	oldID, newID   string
	oldDom, newDom string
	url            string
	// watching is closed when the command polls the new distribution for
	// the second time: its check is done and the watch has begun.
	watching chan struct{}
	gets     atomic.Int64
}

func newSwapWorld(t *testing.T) *swapWorld {
	t.Helper()
	l := lab.New(lab.Options{Propagation: 50 * time.Millisecond, DeployDelay: -1, RateLimit: route53.RateLimitOff})
	s, err := lab.ParseSeed("seed", []byte(swapSeed))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := l.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	w := &swapWorld{lab: l, zone: seeded.Zones["example.com"],
		oldID: seeded.Distributions["old"].ID, newID: seeded.Distributions["new"].ID,
		oldDom: seeded.Distributions["old"].DomainName, newDom: seeded.Distributions["new"].DomainName}
	id, err := l.Route53.ApplyChanges(awsapi.DefaultAccountID, w.zone, []route53.Change{{Action: "CREATE",
		Set: route53.RecordSet{Name: "_www.example.com.", Type: "TXT", TTL: route53.Int64(60), Records: []string{`"` + w.newDom + `"`}}}})
	if err != nil {
		t.Fatal(err)
	}
	// AssociateAlias checks the proof as DNS serves it: let the change
	// reach INSYNC (a known moment) before anyone moves the alias.
	if ci, ok := l.Route53.ChangeInfo(id); ok {
		time.Sleep(time.Until(ci.InSyncAt))
	}
	w.watching = make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/2020-05-31/distribution/"+w.newID && w.gets.Add(1) == 2 {
			close(w.watching)
		}
		l.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": srv.URL, "AWS_ACCESS_KEY_ID": awsapi.DefaultAccessKeyID, "AWS_SECRET_ACCESS_KEY": awsapi.DefaultSecretAccessKey,
		"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
	os.Unsetenv("AWS_PROFILE")
	return w
}

// moveAlias does what AWS Support does: one AssociateAlias call.
func (w *swapWorld) moveAlias(t *testing.T) {
	_, err := cf.NewFromConfig(awstest.Config(w.url)).AssociateAlias(context.Background(),
		&cf.AssociateAliasInput{TargetDistributionId: aws.String(w.newID), Alias: aws.String("www.example.com")})
	if err != nil {
		t.Errorf("moving the alias: %v", err)
	}
}

// www returns the served www.example.com records as "TYPE target".
func (w *swapWorld) www(t *testing.T) []string {
	t.Helper()
	recs, ok := w.lab.Route53.Records(w.zone)
	if !ok {
		t.Fatal("zone gone")
	}
	var out []string
	for _, r := range recs {
		if r.Name == "www.example.com." && r.AliasTarget != nil {
			out = append(out, r.Type+" "+r.AliasTarget.DNSName)
		}
	}
	return out
}

func (w *swapWorld) changes(op string, since int64) []awsapi.Change {
	var out []awsapi.Change
	for _, c := range w.lab.Env.History.List(awsapi.Filter{SinceSeq: since}) {
		if op == "" || c.Operation == op {
			out = append(out, c)
		}
	}
	return out
}

func (w *swapWorld) lastSeq() int64 {
	all := w.lab.Env.History.List(awsapi.Filter{})
	return all[len(all)-1].Seq
}

func (w *swapWorld) args(extra ...string) []string {
	return append([]string{"watch-swap", "--distribution", w.newID, "--zone", "/hostedzone/" + w.zone,
		"--from", w.oldDom, "--to", w.newDom + ".", "--name", "WWW.example.com."}, extra...)
}

func TestWatchSwapRepointsWhenTheAliasMoves(t *testing.T) {
	w := newSwapWorld(t)
	since := w.lastSeq()
	go func() {
		<-w.watching
		time.Sleep(200 * time.Millisecond)
		w.moveAlias(t)
	}()
	out, err := runCLI(t, "", w.args("--poll", "50ms", "--timeout", "30s", "-o", "json")...)
	if err != nil {
		t.Fatalf("watch-swap: %v\n%s", err, out)
	}
	got := w.www(t)
	if len(got) != 2 || got[0] != "A "+w.newDom+"." || got[1] != "AAAA "+w.newDom+"." {
		t.Fatalf("www after the swap: %v\n%s", got, out)
	}
	// One change set, after the move, within a second of it by the
	// lab's own clock.
	moves := w.changes("AssociateAlias", since)
	writes := w.changes("ChangeResourceRecordSets", since)
	if len(moves) != 2 || len(writes) != 1 {
		t.Fatalf("%d alias moves, %d record writes", len(moves), len(writes))
	}
	if lag := writes[0].Time.Sub(moves[1].Time); lag < 0 || lag > time.Second {
		t.Fatalf("DNS followed the alias after %s", lag)
	}
	// The timeline is on stdout as JSON (progress lines come first on the
	// shared test buffer).
	var res watchSwapResult
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.SwapSeenAt == nil || res.SubmittedAt == nil || res.InSyncAt == nil || res.LatencyMS == nil || res.ChangeID == "" ||
		res.SubmittedAt.Before(*res.SwapSeenAt) || res.InSyncAt.Before(*res.SubmittedAt) || len(res.Changes) != 2 {
		t.Fatalf("timeline %+v", res)
	}
	if !strings.Contains(out, "watching distribution "+w.newID+" for alias www.example.com") {
		t.Fatalf("no progress line:\n%s", out)
	}
}

func TestWatchSwapTimesOutChangingNothing(t *testing.T) {
	w := newSwapWorld(t)
	since := w.lastSeq()
	out, err := runCLI(t, "", w.args("--poll", "50ms", "--timeout", "500ms")...)
	if exitCode(err) != exitFailure || !strings.Contains(err.Error(), "did not arrive before the timeout") || !strings.Contains(err.Error(), "nothing changed") {
		t.Fatalf("want exit 1 on timeout, got %v\n%s", err, out)
	}
	if n := len(w.changes("ChangeResourceRecordSets", since)); n != 0 {
		t.Fatalf("%d record writes after a timeout", n)
	}
	if got := w.www(t); len(got) != 2 || got[0] != "A "+w.oldDom+"." {
		t.Fatalf("www after a timeout: %v", got)
	}
}

func TestWatchSwapRefusesARecordPointingElsewhere(t *testing.T) {
	w := newSwapWorld(t)
	since := w.lastSeq()
	args := []string{"watch-swap", "--distribution", w.newID, "--zone", w.zone, "--from", w.oldDom, "--to", w.newDom, "--name", "api.example.com"}
	out, err := runCLI(t, "", args...)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "api.example.com. does not point at "+w.oldDom+".") ||
		!strings.Contains(err.Error(), "CNAME elsewhere.example.net") {
		t.Fatalf("want exit 2 naming what is there, got %v\n%s", err, out)
	}
	// --to must be the watched distribution's own name.
	out, err = runCLI(t, "", w.args("--to", "d999.cloudfront.net")...)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "is not the domain of distribution "+w.newID) {
		t.Fatalf("want exit 2 for a wrong --to, got %v\n%s", err, out)
	}
	if n := len(w.changes("", since)); n != 0 {
		t.Fatalf("%d writes after a refusal", n)
	}
}

func TestWatchSwapDryRunShowsTheChange(t *testing.T) {
	w := newSwapWorld(t)
	since := w.lastSeq()
	out, err := runCLI(t, "", w.args("--dry-run")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "holds www.example.com now: false") || !strings.Contains(out, "+ www.example.com. A ALIAS "+w.newDom+".") ||
		!strings.Contains(out, "- www.example.com. AAAA ALIAS "+w.oldDom+".") {
		t.Fatalf("dry run:\n%s", out)
	}
	if n := len(w.lab.Env.History.List(awsapi.Filter{SinceSeq: since})); n != 0 {
		t.Fatalf("%d writes in a dry run", n)
	}
}

func TestWatchSwapShowsARecordEditedMeanwhile(t *testing.T) {
	w := newSwapWorld(t)
	go func() {
		<-w.watching
		// Someone repoints www by hand while we watch …
		_, err := w.lab.Route53.ApplyChanges(awsapi.DefaultAccountID, w.zone, []route53.Change{{Action: "UPSERT", Set: route53.RecordSet{
			Name: "www.example.com.", Type: "A", AliasTarget: &route53.AliasTarget{HostedZoneID: "Z2FDTNDATAQYW2", DNSName: "dhand.cloudfront.net."}}}})
		if err != nil {
			t.Error(err)
		}
		// … and then the alias moves.
		w.moveAlias(t)
	}()
	out, err := runCLI(t, "", w.args("--poll", "50ms", "--timeout", "30s")...)
	if exitCode(err) != exitFailure || !strings.Contains(err.Error(), "record changed outside cutover") ||
		!strings.Contains(err.Error(), "expected:") || !strings.Contains(err.Error(), "dhand.cloudfront.net.") {
		t.Fatalf("want exit 1 showing both versions, got %v\n%s", err, out)
	}
	if got := w.www(t); len(got) != 2 || got[0] != "A dhand.cloudfront.net." || got[1] != "AAAA "+w.oldDom+"." {
		t.Fatalf("www after a refused swap: %v", got)
	}
}
