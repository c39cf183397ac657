package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/labtest"
	"github.com/cutover/cutover/internal/server"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
)

const testToken = "test-token-0123456789"

// startLab starts a lab with the weighted move's seed over HTTP and points
// the AWS SDK at it; it returns the lab and the zone id of example.com.
func startLab(t *testing.T) (*lab.Lab, string) {
	t.Helper()
	l, seeded := labtest.Start(t, labtest.Seed)
	return l, seeded.Zones["example.com"]
}

// planYAML is a weighted move of api.example.com with a probe gate against
// health, pausing pause after each of its steps.
func planYAML(zone, name, health string, pause time.Duration) string {
	return labtest.WeightedPlan(name, zone, fmt.Sprintf("  - {weight: 10, pause: %s}\n  - {weight: 50, pause: %s}\n  - {weight: 100}\n", pause, pause),
		fmt.Sprintf(`gates:
  - name: health
    interval: 100ms
    on_failure: pause
    probe: {url: %q}
`, health+"/health"))
}

type fixture struct {
	url   string
	store store.Store
	lab   *lab.Lab
	zone  string
	plan  string
}

// start runs a server on a bbolt store against a fresh lab.
func start(t *testing.T, pause time.Duration) *fixture {
	t.Helper()
	l, zone := startLab(t)
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(health.Close)
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := server.New(server.Options{Store: st, Token: testToken, Poll: 20 * time.Millisecond, Rescan: 50 * time.Millisecond, UnknownChangeSettle: 100 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Run(ctx) }()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); cancel(); <-done })
	return &fixture{url: hs.URL, store: st, lab: l, zone: zone, plan: planYAML(zone, "api-move", health.URL, pause)}
}

func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, data)
		}
	}
	return resp.StatusCode, out
}

// await polls cond until it holds or 20s passed.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) state(t *testing.T, name string) store.Run {
	t.Helper()
	r, err := f.store.GetRun(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMutatingEndpointsNeedTheToken(t *testing.T) {
	f := start(t, time.Hour)
	for _, p := range []string{"/api/v1/runs", "/api/v1/runs/api-move/pause", "/api/v1/runs/api-move/resume", "/api/v1/runs/api-move/rollback", "/api/v1/runs/api-move/promote"} {
		for _, tok := range []string{"", "wrong"} {
			code, body := call(t, "POST", f.url+p, tok, f.plan)
			if code != http.StatusUnauthorized || !strings.Contains(fmt.Sprint(body["error"]), "bearer token") {
				t.Errorf("POST %s with token %q: %d %v, want 401", p, tok, code, body)
			}
		}
	}
	if runs, _ := f.store.ListRuns(context.Background()); len(runs) != 0 {
		t.Fatalf("an unauthenticated submit created %d runs", len(runs))
	}
}

func TestSubmitBadPlanIs400WithPositions(t *testing.T) {
	f := start(t, time.Hour)
	bad := strings.Replace(f.plan, "strategy: weighted", "strategy: sideways\nbogus: 1", 1)
	code, body := call(t, "POST", f.url+"/api/v1/runs?file=my.yaml", testToken, bad)
	if code != http.StatusBadRequest {
		t.Fatalf("bad plan: %d %v", code, body)
	}
	diags, _ := body["diagnostics"].([]any)
	re := regexp.MustCompile(`^my\.yaml:\d+:\d+: `)
	if len(diags) < 2 {
		t.Fatalf("diagnostics %v", body)
	}
	for _, d := range diags {
		if !re.MatchString(fmt.Sprint(d)) {
			t.Errorf("diagnostic %q has no file:line:col", d)
		}
	}
	if code, body := call(t, "POST", f.url+"/api/v1/runs?name=Not_A_Name", testToken, f.plan); code != http.StatusBadRequest {
		t.Fatalf("bad ?name=: %d %v", code, body)
	}
	if runs, _ := f.store.ListRuns(context.Background()); len(runs) != 0 {
		t.Fatalf("a bad plan created %d runs", len(runs))
	}
}

// TestRunLifecycleOverTheAPI submits a plan, follows it over the list, the
// run, the split, the event stream and the metrics, pauses and resumes it,
// promotes its observation, and sees it done on the lab.
func TestRunLifecycleOverTheAPI(t *testing.T) {
	f := start(t, time.Hour)

	// A dry run compiles without creating.
	code, body := call(t, "POST", f.url+"/api/v1/runs?name=api-move-2&dry_run=1", testToken, f.plan)
	if code != http.StatusOK || !strings.Contains(fmt.Sprint(body["plan"]), "shift 10% to new.example.net") {
		t.Fatalf("dry run: %d %v", code, body)
	}
	if _, err := f.store.GetRun(context.Background(), "api-move-2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dry run created the run: %v", err)
	}
	code, body = call(t, "POST", f.url+"/api/v1/runs?name=api-move-2", testToken, f.plan)
	if code != http.StatusCreated || body["name"] != "api-move-2" {
		t.Fatalf("submit: %d %v", code, body)
	}
	// The stream starts with what is logged already, so opening it now misses nothing.
	stream := openStream(t, f.url+"/api/v1/events?run=api-move-2")
	// The same plan again is the same run; another run on the hostname is refused.
	if code, body := call(t, "POST", f.url+"/api/v1/runs?name=api-move-2", testToken, f.plan); code != http.StatusOK || body["existing"] != true {
		t.Fatalf("resubmit: %d %v", code, body)
	}
	if code, body := call(t, "POST", f.url+"/api/v1/runs?name=other", testToken, f.plan); code != http.StatusConflict {
		t.Fatalf("second run on the hostname: %d %v", code, body)
	}

	// Step 1 (10%) observes for an hour: the run sits there.
	f.awaitObserving(t, "api-move-2", 10)
	code, body = call(t, "GET", f.url+"/api/v1/runs", "", "")
	runs, _ := body["runs"].([]any)
	if code != 200 || len(runs) != 1 {
		t.Fatalf("list: %d %v", code, body)
	}
	row := runs[0].(map[string]any)
	for _, k := range []string{"name", "state", "step", "steps", "title", "reason", "owner", "updated_at", "next_deadline"} {
		if _, ok := row[k]; !ok {
			t.Errorf("run summary lacks %q: %v", k, row)
		}
	}
	if row["state"] != "running" || row["owner"] == "" || row["next_deadline"] == nil || row["steps"].(float64) < 3 {
		t.Fatalf("run summary %v", row)
	}

	// The run with its runbook, events and deadlines.
	code, body = call(t, "GET", f.url+"/api/v1/runs/api-move-2", "", "")
	if code != 200 || body["run"].(map[string]any)["name"] != "api-move-2" || len(body["runbook"].(map[string]any)["steps"].([]any)) < 3 || len(body["deadlines"].(map[string]any)) != 1 {
		t.Fatalf("get: %d %v", code, body)
	}
	if !hasEvent(body, "change.applied") || !hasEvent(body, "gate.measured") {
		t.Fatalf("events of the run lack change.applied or gate.measured: %v", body["events"])
	}
	if code, _ := call(t, "GET", f.url+"/api/v1/runs/nope", "", ""); code != 404 {
		t.Fatalf("unknown run: %d", code)
	}

	// The split shows 0 then 10.
	if got := intended(t, f.url, "api-move-2"); fmt.Sprint(got) != "[0 10]" {
		t.Fatalf("intended split %v", got)
	}

	// Metrics: the run's step, its gate and its deadline.
	metrics := get(t, f.url+"/metrics")
	for _, want := range []string{`cutover_runs{state="running"} 1`, `cutover_run_step{run="api-move-2"}`, `cutover_gate_value{gate="health",run="api-move-2"}`, `cutover_run_next_deadline_seconds{run="api-move-2"} 35`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}

	// Pause, resume, promote through the API.
	if code, body := call(t, "POST", f.url+"/api/v1/runs/api-move-2/pause", testToken, ""); code != http.StatusAccepted {
		t.Fatalf("pause: %d %v", code, body)
	}
	await(t, "the pause", func() bool { return f.state(t, "api-move-2").State == store.StatePaused })
	if code, body := call(t, "POST", f.url+"/api/v1/runs/api-move-2/resume", testToken, ""); code != http.StatusAccepted {
		t.Fatalf("resume: %d %v", code, body)
	}
	await(t, "the resume", func() bool { return f.state(t, "api-move-2").State == store.StateRunning })
	for _, w := range []float64{10, 50} {
		f.awaitObserving(t, "api-move-2", w)
		if code, body := call(t, "POST", f.url+"/api/v1/runs/api-move-2/promote", testToken, ""); code != http.StatusAccepted {
			t.Fatalf("promote: %d %v", code, body)
		}
	}
	await(t, "the run's end", func() bool { return f.state(t, "api-move-2").State.Terminal() })
	if r := f.state(t, "api-move-2"); r.State != store.StateDone {
		t.Fatalf("run ended %s: %s", r.State, r.Reason)
	}
	if got := intended(t, f.url, "api-move-2"); fmt.Sprint(got) != "[0 10 50 100]" {
		t.Fatalf("intended split %v", got)
	}
	recs, _ := f.lab.Route53.Records(f.zone)
	for _, r := range recs {
		if r.Name == "api.example.com." && (r.Type != "CNAME" || r.Records[0] != "new.example.net." || r.SetIdentifier != "") {
			t.Fatalf("final record %+v", r)
		}
	}

	// The stream delivered the story in order, each event once.
	want := []string{"run.started", "change.applied", "operator.requested", "run.paused", "run.resumed", "run.promoted", "run.done"}
	got := stream.until(t, "run.done")
	if !subsequence(got, want) {
		t.Fatalf("stream %v lacks %v in order", got, want)
	}
	evs, _ := f.store.Events(context.Background(), "api-move-2", 0)
	if len(got) != len(evs) {
		t.Fatalf("stream delivered %d events, the log holds %d", len(got), len(evs))
	}

	// Requests against an ended run, an unknown run, an unknown action.
	for p, want := range map[string]int{"/api/v1/runs/api-move-2/pause": 409, "/api/v1/runs/nope/pause": 404, "/api/v1/runs/api-move-2/explode": 404} {
		if code, body := call(t, "POST", f.url+p, testToken, ""); code != want {
			t.Errorf("POST %s: %d %v, want %d", p, code, body, want)
		}
	}
	if code, body := call(t, "POST", f.url+"/api/v1/runs?name=api-move-2", testToken, f.plan); code != http.StatusConflict {
		t.Fatalf("submit over an ended run: %d %v", code, body)
	}
	metrics = get(t, f.url+"/metrics")
	if !strings.Contains(metrics, `cutover_runs{state="done"} 1`) || strings.Contains(metrics, `cutover_run_step{`) {
		t.Fatalf("metrics after the run:\n%s", metrics)
	}
}

// TestRollbackOverTheAPI rolls a run back from its first observation.
func TestRollbackOverTheAPI(t *testing.T) {
	f := start(t, time.Hour)
	if code, body := call(t, "POST", f.url+"/api/v1/runs", testToken, f.plan); code != http.StatusCreated {
		t.Fatalf("submit: %d %v", code, body)
	}
	f.awaitObserving(t, "api-move", 10)
	if code, body := call(t, "POST", f.url+"/api/v1/runs/api-move/rollback", testToken, ""); code != http.StatusAccepted {
		t.Fatalf("rollback: %d %v", code, body)
	}
	await(t, "the rollback", func() bool { return f.state(t, "api-move").State.Terminal() })
	if r := f.state(t, "api-move"); r.State != store.StateRolledBack {
		t.Fatalf("run ended %s: %s", r.State, r.Reason)
	}
	if got := intended(t, f.url, "api-move"); len(got) < 3 || got[len(got)-1] != 0 {
		t.Fatalf("intended split after rollback %v", got)
	}
}

func TestDashboardIsServedWithNothingFromOutside(t *testing.T) {
	f := start(t, time.Hour)
	page := get(t, f.url+"/")
	if !strings.Contains(page, `<script src="app.js">`) || !strings.Contains(page, `href="style.css"`) {
		t.Fatalf("dashboard page:\n%s", page)
	}
	for _, asset := range []string{"/", "/app.js", "/style.css"} {
		body := get(t, f.url+asset)
		for _, m := range regexp.MustCompile(`(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^"' )]*`).FindAllString(body, -1) {
			if m != "http://www.w3.org/2000/svg" {
				t.Errorf("%s refers to %s", asset, m)
			}
		}
	}
}

func TestTokenIsCreatedOnceWithMode0600(t *testing.T) {
	path := server.TokenPath(filepath.Join(t.TempDir(), "state.db"))
	tok, created, err := server.LoadOrCreateToken(path)
	if err != nil || !created || len(tok) != 64 {
		t.Fatalf("first start: %q %v %v", tok, created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v %v", fi.Mode(), err)
	}
	again, created, err := server.LoadOrCreateToken(path)
	if err != nil || created || again != tok {
		t.Fatalf("second start: %q %v %v", again, created, err)
	}
	os.Chmod(path, 0o644)
	if _, _, err := server.LoadOrCreateToken(path); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("a world-readable token file: %v", err)
	}
}

// awaitObserving waits until the run observes its split at weight percent.
func (f *fixture) awaitObserving(t *testing.T, name string, weight float64) {
	t.Helper()
	await(t, fmt.Sprintf("the %g%% observation", weight), func() bool {
		r := f.state(t, name)
		rb, err := engine.Runbook(r)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != store.StateRunning || len(r.Timers) == 0 || r.Step >= len(rb.Steps) {
			return false
		}
		o := rb.Steps[r.Step].Observe
		return o != nil && o.Weights != nil && float64(o.Weights.New) == weight
	})
}

func hasEvent(body map[string]any, typ string) bool {
	for _, e := range body["events"].([]any) {
		if e.(map[string]any)["type"] == typ {
			return true
		}
	}
	return false
}

func intended(t *testing.T, url, name string) []float64 {
	t.Helper()
	code, body := call(t, "GET", url+"/api/v1/runs/"+name+"/split", "", "")
	if code != 200 {
		t.Fatalf("split: %d %v", code, body)
	}
	var out []float64
	for _, p := range body["points"].([]any) {
		pt := p.(map[string]any)
		if _, err := time.Parse(time.RFC3339, pt["at"].(string)); err != nil {
			t.Fatalf("split point at %v: %v", pt["at"], err)
		}
		if v, ok := pt["observed_new"]; !ok || v != nil {
			t.Fatalf("default split observed %v", pt)
		}
		out = append(out, pt["intended_new"].(float64))
	}
	return out
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func subsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// sse reads a server-sent event stream.
type sse struct {
	types chan string
}

func openStream(t *testing.T, url string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	t.Cleanup(cancel)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream content type %q", ct)
	}
	s := &sse{types: make(chan string, 1000)}
	go s.read(resp.Body)
	return s
}

// read checks each message's event name against its data's type.
func (s *sse) read(body io.ReadCloser) {
	defer body.Close()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var typ string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			var e store.Event
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e) != nil || string(e.Type) != typ {
				s.types <- "MISMATCH:" + typ
				continue
			}
			s.types <- typ
		}
	}
}

func (s *sse) until(t *testing.T, last string) []string {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case typ := <-s.types:
			got = append(got, typ)
			if typ == last {
				return got
			}
		case <-timeout:
			t.Fatalf("stream ended without %s: %v", last, got)
		}
	}
}
