package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/watchswap"
	"github.com/cutover/cutover/internal/watchswap/watchswaptest"
)

// The command's own part: flags in, exit codes and the timeline out. The
// algorithm is tested in internal/watchswap.

func swapWorld(t *testing.T) *watchswaptest.World {
	w := watchswaptest.New(t)
	w.SetEnv(t)
	return w
}

func swapArgs(w *watchswaptest.World, extra ...string) []string {
	return append([]string{"watch-swap", "--distribution", w.NewID, "--zone", "/hostedzone/" + w.Zone,
		"--from", w.OldDom, "--to", w.NewDom + ".", "--name", "WWW.example.com."}, extra...)
}

func TestWatchSwapRepointsWhenTheAliasMoves(t *testing.T) {
	w := swapWorld(t)
	go func() {
		<-w.Watching
		if w.AwaitPolls(t, 2) {
			w.MoveAlias(t)
		}
	}()
	out, err := runCLI(t, "", swapArgs(w, "--poll", "50ms", "--timeout", "30s", "-o", "json")...)
	if err != nil {
		t.Fatalf("watch-swap: %v\n%s", err, out)
	}
	got := w.WWW(t)
	if len(got) != 2 || got[0] != "A "+w.NewDom+"." || got[1] != "AAAA "+w.NewDom+"." {
		t.Fatalf("www after the swap: %v\n%s", got, out)
	}
	// The timeline is on stdout as JSON (progress lines come first on the
	// shared test buffer).
	var res watchswap.Result
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.SwapSeenAt == nil || res.SubmittedAt == nil || res.InSyncAt == nil || res.LatencyMS == nil || res.ChangeID == "" ||
		res.SubmittedAt.Before(*res.SwapSeenAt) || res.InSyncAt.Before(*res.SubmittedAt) || len(res.Changes) != 2 {
		t.Fatalf("timeline %+v", res)
	}
	if !strings.Contains(out, "watching distribution "+w.NewID+" for alias www.example.com") {
		t.Fatalf("no progress line:\n%s", out)
	}
}

func TestWatchSwapTimesOutChangingNothing(t *testing.T) {
	w := swapWorld(t)
	out, err := runCLI(t, "", swapArgs(w, "--poll", "50ms", "--timeout", "500ms")...)
	if exitCode(err) != exitFailure || !strings.Contains(err.Error(), "did not arrive before the timeout") || !strings.Contains(err.Error(), "nothing changed") {
		t.Fatalf("want exit 1 on timeout, got %v\n%s", err, out)
	}
}

func TestWatchSwapRefusesARecordPointingElsewhere(t *testing.T) {
	w := swapWorld(t)
	args := []string{"watch-swap", "--distribution", w.NewID, "--zone", w.Zone, "--from", w.OldDom, "--to", w.NewDom, "--name", "api.example.com"}
	out, err := runCLI(t, "", args...)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "api.example.com. does not point at "+w.OldDom+".") ||
		!strings.Contains(err.Error(), "CNAME elsewhere.example.net") {
		t.Fatalf("want exit 2 naming what is there, got %v\n%s", err, out)
	}
	// --to must be the watched distribution's own name.
	out, err = runCLI(t, "", swapArgs(w, "--to", "d999.cloudfront.net")...)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "is not the domain of distribution "+w.NewID) {
		t.Fatalf("want exit 2 for a wrong --to, got %v\n%s", err, out)
	}
	// Flags the algorithm never sees.
	out, err = runCLI(t, "", swapArgs(w, "--max-rps", "0")...)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "must be positive") {
		t.Fatalf("want exit 2 for --max-rps 0, got %v\n%s", err, out)
	}
}

func TestWatchSwapDryRunShowsTheChange(t *testing.T) {
	w := swapWorld(t)
	since := w.LastSeq()
	out, err := runCLI(t, "", swapArgs(w, "--dry-run")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "holds www.example.com now: false") || !strings.Contains(out, "+ www.example.com. A ALIAS "+w.NewDom+".") ||
		!strings.Contains(out, "- www.example.com. AAAA ALIAS "+w.OldDom+".") {
		t.Fatalf("dry run:\n%s", out)
	}
	if n := len(w.Changes("", since)); n != 0 {
		t.Fatalf("%d writes in a dry run", n)
	}
}

func TestWatchSwapShowsARecordEditedMeanwhile(t *testing.T) {
	w := swapWorld(t)
	go func() {
		<-w.Watching
		w.EditWWW(t)
		w.MoveAlias(t)
	}()
	out, err := runCLI(t, "", swapArgs(w, "--poll", "50ms", "--timeout", "30s")...)
	if exitCode(err) != exitFailure || !strings.Contains(err.Error(), "record changed outside cutover") ||
		!strings.Contains(err.Error(), "expected:") || !strings.Contains(err.Error(), "dhand.cloudfront.net.") {
		t.Fatalf("want exit 1 showing both versions, got %v\n%s", err, out)
	}
}
