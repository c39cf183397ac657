// Package watchswaptest is a lab world for testing watch-swap: the lab
// serving www.example.com aliased to an old distribution, with the TXT
// proof that lets the alias move to a new one, behind a server that tells
// when the watch has begun.
package watchswaptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/labtest"
	"github.com/cutover/cutover/internal/lab/route53"
)

const seed = `
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

// World is a lab with www.example.com aliased to the old distribution
// and the TXT proof that lets the alias move to the new one.
type World struct {
	Lab            *lab.Lab
	Zone           string
	OldID, NewID   string
	OldDom, NewDom string
	// URL is the lab's AWS endpoint.
	URL string
	// Watching is closed when the new distribution is read for the second
	// time: the check is done and the watch has begun.
	Watching chan struct{}
	gets     atomic.Int64
}

// New starts the world; it is closed with the test.
func New(t *testing.T) *World {
	t.Helper()
	l := lab.New(labtest.Options())
	s, err := lab.ParseSeed("seed", []byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := l.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	w := &World{Lab: l, Zone: seeded.Zones["example.com"],
		OldID: seeded.Distributions["old"].ID, NewID: seeded.Distributions["new"].ID,
		OldDom: seeded.Distributions["old"].DomainName, NewDom: seeded.Distributions["new"].DomainName}
	id, err := l.Route53.ApplyChanges(awsapi.DefaultAccountID, w.Zone, []route53.Change{{Action: "CREATE",
		Set: route53.RecordSet{Name: "_www.example.com.", Type: "TXT", TTL: route53.Int64(60), Records: []string{`"` + w.NewDom + `"`}}}})
	if err != nil {
		t.Fatal(err)
	}
	// AssociateAlias checks the proof as DNS serves it: let the change
	// reach INSYNC before anyone moves the alias.
	if !Await(t, 10*time.Second, "the proof record to be INSYNC", func() bool {
		ci, ok := l.Route53.ChangeInfo(id)
		return !ok || ci.Status == route53.StatusInSync
	}) {
		t.FailNow()
	}
	w.Watching = make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/2020-05-31/distribution/"+w.NewID && w.gets.Add(1) == 2 {
			close(w.Watching)
		}
		l.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// SetEnv points the AWS SDK's default configuration at the world.
func (w *World) SetEnv(t *testing.T) {
	t.Helper()
	awstest.SetEnv(t, w.URL)
}

// Config is an AWS configuration that reaches the world.
func (w *World) Config() aws.Config { return awstest.Config(w.URL) }

// Polls is how many times the new distribution has been read.
func (w *World) Polls() int64 { return w.gets.Load() }

// AwaitPolls waits until the new distribution has been read n more times
// than now: the watch is under way and has seen it without the alias.
// It may be called from any goroutine; false means it gave up.
func (w *World) AwaitPolls(t *testing.T, n int64) bool {
	t.Helper()
	want := w.Polls() + n
	return Await(t, 10*time.Second, "the watch to poll", func() bool { return w.Polls() >= want })
}

// MoveAlias does what AWS Support does: one AssociateAlias call.
func (w *World) MoveAlias(t *testing.T) {
	_, err := cf.NewFromConfig(w.Config()).AssociateAlias(context.Background(),
		&cf.AssociateAliasInput{TargetDistributionId: aws.String(w.NewID), Alias: aws.String("www.example.com")})
	if err != nil {
		t.Errorf("moving the alias: %v", err)
	}
}

// WWW returns the served www.example.com records as "TYPE target".
func (w *World) WWW(t *testing.T) []string {
	t.Helper()
	recs, ok := w.Lab.Route53.Records(w.Zone)
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

// Changes are the writes of operation op ("" for any) after since.
func (w *World) Changes(op string, since int64) []awsapi.Change {
	var out []awsapi.Change
	for _, c := range w.Lab.Env.History.List(awsapi.Filter{SinceSeq: since}) {
		if op == "" || c.Operation == op {
			out = append(out, c)
		}
	}
	return out
}

// LastSeq is the sequence number of the last write.
func (w *World) LastSeq() int64 {
	all := w.Lab.Env.History.List(awsapi.Filter{})
	return all[len(all)-1].Seq
}

// EditWWW repoints www's A record by hand, as someone might while the
// watch goes on.
func (w *World) EditWWW(t *testing.T) {
	_, err := w.Lab.Route53.ApplyChanges(awsapi.DefaultAccountID, w.Zone, []route53.Change{{Action: "UPSERT", Set: route53.RecordSet{
		Name: "www.example.com.", Type: "A", AliasTarget: &route53.AliasTarget{HostedZoneID: "Z2FDTNDATAQYW2", DNSName: "dhand.cloudfront.net."}}}})
	if err != nil {
		t.Error(err)
	}
}

// Await polls cond until it holds; after limit it marks the test failed
// and returns false. It may be called from any goroutine.
func Await(t *testing.T, limit time.Duration, what string, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("waited %s for %s", limit, what)
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
