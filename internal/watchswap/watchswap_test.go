package watchswap_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/syncbuf"
	"github.com/cutover/cutover/internal/watchswap"
	"github.com/cutover/cutover/internal/watchswap/watchswaptest"
)

// run runs a watch-swap on w over the wire, as the command does.
func run(t *testing.T, w *watchswaptest.World, o watchswap.Options) (*watchswap.Result, string, error) {
	t.Helper()
	if o.Distribution == "" {
		o.Distribution, o.Zone, o.From, o.To, o.Name = w.NewID, "/hostedzone/"+w.Zone, w.OldDom, w.NewDom+".", "WWW.example.com."
	}
	var progress syncbuf.Buffer
	o.Progress = &progress
	zone := route53.New(w.Config(), route53.Options{})
	cdn := cloudfront.New(w.Config(), cloudfront.Options{})
	res, err := watchswap.Run(context.Background(), zone, cdn, o)
	return res, progress.String(), err
}

func TestRunRepointsWhenTheAliasMoves(t *testing.T) {
	w := watchswaptest.New(t)
	since := w.LastSeq()
	go func() {
		<-w.Watching
		if w.AwaitPolls(t, 2) {
			w.MoveAlias(t)
		}
	}()
	res, progress, err := run(t, w, watchswap.Options{Poll: 50 * time.Millisecond, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("watch-swap: %v\n%s", err, progress)
	}
	got := w.WWW(t)
	if len(got) != 2 || got[0] != "A "+w.NewDom+"." || got[1] != "AAAA "+w.NewDom+"." {
		t.Fatalf("www after the swap: %v\n%s", got, progress)
	}
	// One change set, after the move, within a second of it by the
	// lab's own clock.
	moves := w.Changes("AssociateAlias", since)
	writes := w.Changes("ChangeResourceRecordSets", since)
	if len(moves) != 2 || len(writes) != 1 {
		t.Fatalf("%d alias moves, %d record writes", len(moves), len(writes))
	}
	if lag := writes[0].Time.Sub(moves[1].Time); lag < 0 || lag > time.Second {
		t.Fatalf("DNS followed the alias after %s", lag)
	}
	if res.SwapSeenAt == nil || res.SubmittedAt == nil || res.InSyncAt == nil || res.LatencyMS == nil || res.ChangeID == "" ||
		res.SubmittedAt.Before(*res.SwapSeenAt) || res.InSyncAt.Before(*res.SubmittedAt) || len(res.Changes) != 2 || !res.AliasThere {
		t.Fatalf("timeline %+v", res)
	}
	if !strings.Contains(progress, "watching distribution "+w.NewID+" for alias www.example.com") {
		t.Fatalf("no progress line:\n%s", progress)
	}
}

func TestRunTimesOutChangingNothing(t *testing.T) {
	w := watchswaptest.New(t)
	since := w.LastSeq()
	_, _, err := run(t, w, watchswap.Options{Poll: 50 * time.Millisecond, Timeout: 500 * time.Millisecond})
	if !errors.Is(err, cloudfront.ErrSwapTimeout) || !strings.Contains(err.Error(), "did not arrive before the timeout") || !strings.Contains(err.Error(), "nothing changed") {
		t.Fatalf("want a timeout, got %v", err)
	}
	if n := len(w.Changes("ChangeResourceRecordSets", since)); n != 0 {
		t.Fatalf("%d record writes after a timeout", n)
	}
	if got := w.WWW(t); len(got) != 2 || got[0] != "A "+w.OldDom+"." {
		t.Fatalf("www after a timeout: %v", got)
	}
}

func TestRunRefusesARecordPointingElsewhere(t *testing.T) {
	w := watchswaptest.New(t)
	since := w.LastSeq()
	_, _, err := run(t, w, watchswap.Options{Distribution: w.NewID, Zone: w.Zone, From: w.OldDom, To: w.NewDom, Name: "api.example.com"})
	var ie *watchswap.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "api.example.com. does not point at "+w.OldDom+".") ||
		!strings.Contains(err.Error(), "CNAME elsewhere.example.net") {
		t.Fatalf("want an input error naming what is there, got %v", err)
	}
	// To must be the watched distribution's own name.
	_, _, err = run(t, w, watchswap.Options{Distribution: w.NewID, Zone: w.Zone, From: w.OldDom, To: "d999.cloudfront.net", Name: "www.example.com"})
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "is not the domain of distribution "+w.NewID) {
		t.Fatalf("want an input error for a wrong To, got %v", err)
	}
	_, _, err = run(t, w, watchswap.Options{Distribution: w.NewID, Zone: w.Zone, From: w.OldDom, To: w.OldDom + ".", Name: "www.example.com"})
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "are both") {
		t.Fatalf("want an input error for From = To, got %v", err)
	}
	if n := len(w.Changes("", since)); n != 0 {
		t.Fatalf("%d writes after a refusal", n)
	}
}

func TestRunDryRunReturnsTheChange(t *testing.T) {
	w := watchswaptest.New(t)
	since := w.LastSeq()
	res, _, err := run(t, w, watchswap.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.AliasThere || len(res.Changes) != 2 || res.Name != "www.example.com." || res.Zone != w.Zone ||
		res.Changes[0].New.Alias.DNSName != w.NewDom+"." || res.Changes[1].Old.Alias.DNSName != w.OldDom+"." {
		t.Fatalf("dry run: %+v", res)
	}
	if n := len(w.Changes("", since)); n != 0 {
		t.Fatalf("%d writes in a dry run", n)
	}
}

func TestRunShowsARecordEditedMeanwhile(t *testing.T) {
	w := watchswaptest.New(t)
	go func() {
		<-w.Watching
		// Someone repoints www by hand while we watch …
		w.EditWWW(t)
		// … and then the alias moves.
		w.MoveAlias(t)
	}()
	_, _, err := run(t, w, watchswap.Options{Poll: 50 * time.Millisecond, Timeout: 30 * time.Second})
	if !errors.Is(err, dns.ErrConflict) || !strings.Contains(err.Error(), "record changed outside cutover") ||
		!strings.Contains(err.Error(), "expected:") || !strings.Contains(err.Error(), "dhand.cloudfront.net.") {
		t.Fatalf("want a conflict showing both versions, got %v", err)
	}
	if got := w.WWW(t); len(got) != 2 || got[0] != "A dhand.cloudfront.net." || got[1] != "AAAA "+w.OldDom+"." {
		t.Fatalf("www after a refused swap: %v", got)
	}
}

func TestSwapChangesRefusesRoutingPolicies(t *testing.T) {
	recs := []dns.RecordSet{{Name: "www.example.com.", Type: "CNAME", SetIdentifier: "blue", TTL: 60, Values: []string{"old.example.net."}}}
	if _, err := watchswap.SwapChanges(recs, "www.example.com.", "old.example.net.", "new.example.net."); err == nil || !strings.Contains(err.Error(), "routing policies") {
		t.Fatalf("want a refusal, got %v", err)
	}
	recs[0].SetIdentifier = ""
	changes, err := watchswap.SwapChanges(recs, "www.example.com.", "old.example.net.", "new.example.net.")
	if err != nil || len(changes) != 1 || changes[0].New.Values[0] != "new.example.net." || changes[0].Old.Values[0] != "old.example.net." {
		t.Fatalf("CNAME swap: %v %+v", err, changes)
	}
	if _, err := watchswap.SwapChanges(nil, "www.example.com.", "old.example.net.", "new.example.net."); err == nil || !strings.Contains(err.Error(), "no A, AAAA or CNAME record") {
		t.Fatalf("want no record, got %v", err)
	}
}
