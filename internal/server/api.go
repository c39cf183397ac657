package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// maxPlanBytes bounds a submitted plan.
const maxPlanBytes = 1 << 20

// runNameRE is the plan's rule for run names.
var runNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Handler serves the API, the metrics and the dashboard.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/v1/runs", s.listRuns)
	m.HandleFunc("POST /api/v1/runs", s.authed(s.submit))
	m.HandleFunc("GET /api/v1/runs/{name}", s.getRun)
	m.HandleFunc("GET /api/v1/runs/{name}/split", s.split)
	m.HandleFunc("POST /api/v1/runs/{name}/{action}", s.authed(s.request))
	m.HandleFunc("GET /api/v1/events", s.stream)
	m.Handle("GET /metrics", s.metricsHandler())
	m.Handle("GET /", dashboard())
	s.mux = m
}

// authed refuses a request without the server's bearer token.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.o.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cutover"`)
			writeError(w, http.StatusUnauthorized, errors.New("a bearer token is required (Authorization: Bearer <token>; `cutover serve` printed it at first start)"))
			return
		}
		h(w, r)
	}
}

// RunSummary is one row of GET /api/v1/runs.
type RunSummary struct {
	Name     string `json:"name"`
	Hostname string `json:"hostname"`
	// Subject is what the run moves: its hostname, or for a bulk run how
	// many hostnames in how many zones; Bulk says where they are.
	Subject      string             `json:"subject"`
	Bulk         *engine.BulkStatus `json:"bulk,omitempty"`
	Strategy     string             `json:"strategy"`
	State        store.RunState     `json:"state"`
	Step         int                `json:"step"`
	Steps        int                `json:"steps"`
	Title        string             `json:"title"`
	Reason       string             `json:"reason"`
	Owner        string             `json:"owner"`
	UpdatedAt    time.Time          `json:"updated_at"`
	NextDeadline *time.Time         `json:"next_deadline"`
	Error        string             `json:"error,omitempty"`
}

func (s *Server) summary(r store.Run) RunSummary {
	sum := RunSummary{Name: r.Name, Hostname: r.Hostname, Subject: strings.TrimSuffix(r.Hostname, "."), State: r.State, Step: r.Step + 1, Reason: r.Reason, Owner: s.executing(r.Name), UpdatedAt: r.UpdatedAt}
	if rb, err := engine.Runbook(r); err == nil {
		sum.Strategy, sum.Steps = rb.Strategy, len(rb.Steps)
		if rb.IsBulk() {
			sum.Subject, sum.Bulk = rb.Subject(), engine.BulkSummary(rb, r)
		}
		if sum.Step > sum.Steps {
			sum.Step = sum.Steps // past the last step: done
		}
		switch {
		case r.State == store.StateRollingBack:
			sum.Title = "rolling back"
		case r.Step < len(rb.Steps):
			sum.Title = rb.Steps[r.Step].Title
		}
	}
	if d := nextDeadline(r); !d.IsZero() {
		sum.NextDeadline = &d
	}
	s.mu.Lock()
	sum.Error = s.lastErr[r.Name]
	s.mu.Unlock()
	return sum
}

// nextDeadline is the earliest of the run's stored deadlines.
func nextDeadline(r store.Run) time.Time {
	var next time.Time
	for _, d := range r.Timers {
		if next.IsZero() || d.Before(next) {
			next = d
		}
	}
	return next
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	runs, err := s.o.Store.ListRuns(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	out := []RunSummary{}
	for _, run := range runs {
		out = append(out, s.summary(run))
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out})
}

// RunDetail is GET /api/v1/runs/{name}.
type RunDetail struct {
	Run       store.Run            `json:"run"`
	Runbook   *runbook.Runbook     `json:"runbook"`
	Events    []store.Event        `json:"events"`
	Deadlines map[string]time.Time `json:"deadlines"`
	Summary   RunSummary           `json:"summary"`
}

// load reads a run, its runbook and its events; a missing run is answered
// 404 and reported as false.
func (s *Server) load(w http.ResponseWriter, r *http.Request) (store.Run, *runbook.Runbook, []store.Event, bool) {
	name := r.PathValue("name")
	run, err := s.o.Store.GetRun(r.Context(), name)
	if err != nil {
		writeStoreError(w, name, err)
		return run, nil, nil, false
	}
	rb, err := engine.Runbook(run)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return run, nil, nil, false
	}
	evs, err := s.o.Store.Events(r.Context(), name, 0)
	if err != nil {
		writeStoreError(w, name, err)
		return run, nil, nil, false
	}
	if evs == nil {
		evs = []store.Event{}
	}
	return run, rb, evs, true
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	run, rb, evs, ok := s.load(w, r)
	if !ok {
		return
	}
	d := run.Timers
	if d == nil {
		d = map[string]time.Time{}
	}
	writeJSON(w, http.StatusOK, RunDetail{Run: run, Runbook: rb, Events: evs, Deadlines: d, Summary: s.summary(run)})
}

func (s *Server) split(w http.ResponseWriter, r *http.Request) {
	run, rb, evs, ok := s.load(w, r)
	if !ok {
		return
	}
	v, err := s.o.Split(r.Context(), run, rb, evs)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("split of run %s: %w", run.Name, err))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// ActorHeader is the header a client names its user in (user@host); the
// token says the request may act, this says who it was for the audit log.
const ActorHeader = "X-Cutover-Actor"

// apiActor is who an operator request over the API is recorded as: the
// user the client names, and where the request came from.
func apiActor(r *http.Request) string {
	who := strings.TrimSpace(r.Header.Get(ActorHeader))
	if who == "" || len(who) > 256 {
		who = "an API client"
	}
	from := r.RemoteAddr
	if host, _, err := net.SplitHostPort(from); err == nil {
		from = host
	}
	return who + " via the API from " + from
}

// request records an operator action against a run.
func (s *Server) request(w http.ResponseWriter, r *http.Request) {
	name, action := r.PathValue("name"), r.PathValue("action")
	if !store.ValidRequest(action) {
		writeError(w, http.StatusNotFound, fmt.Errorf("unknown action %q: want one of %s", action, strings.Join(store.Requests, ", ")))
		return
	}
	if _, err := s.o.Store.Request(store.WithActor(r.Context(), apiActor(r)), name, action); err != nil {
		writeStoreError(w, name, err)
		return
	}
	s.events.broadcast()
	s.kick()
	writeJSON(w, http.StatusAccepted, map[string]string{"name": name, "requested": action})
}

// submit compiles a plan and creates its run, which Run then executes.
func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	if s.o.ShowOnly {
		writeError(w, http.StatusMethodNotAllowed, errors.New("this server shows runs executed elsewhere and accepts no plans; use `cutover serve`"))
		return
	}
	q := r.URL.Query()
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPlanBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("reading plan: %w", err))
		return
	}
	file := q.Get("file")
	if file == "" {
		file = "plan.yaml"
	}
	p, err := plan.Parse(file, data)
	if err != nil {
		writePlanError(w, err)
		return
	}
	if name := q.Get("name"); name != "" {
		if !runNameRE.MatchString(name) {
			writeError(w, http.StatusBadRequest, fmt.Errorf("?name=%q: want 1-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit", name))
			return
		}
		p.Name = name
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	s.submitting.Lock()
	defer s.submitting.Unlock()
	if status, body := s.conflict(r.Context(), p, digest); status != 0 {
		writeJSON(w, status, body)
		return
	}
	c, err := s.o.Compile(r.Context(), p)
	if err != nil {
		var pe *observe.PlanError
		if errors.As(err, &pe) {
			writePlanError(w, err)
			return
		}
		writeError(w, http.StatusBadGateway, fmt.Errorf("reading the world of plan %s: %w", p.Name, err))
		return
	}
	if q.Get("dry_run") == "1" || q.Get("dry_run") == "true" {
		var b bytes.Buffer
		if c.Brake.Engaged() {
			fmt.Fprintf(&b, "SAFETY BRAKE: the plan %s; submitting refuses it without force\n", strings.Join(c.Brake.Reasons, "; "))
		}
		for _, d := range p.Warnings() {
			fmt.Fprintf(&b, "%s\n", d)
		}
		runbook.Render(&b, c.Runbook, c.From, c.To, observe.AssumedInSync)
		writeJSON(w, http.StatusOK, map[string]any{"name": p.Name, "plan": b.String(), "brake": c.Brake})
		return
	}
	// The safety brake refuses the plan itself, as apply does.
	if c.Brake.Engaged() && q.Get("force") != "1" && q.Get("force") != "true" {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error": fmt.Sprintf("safety brake: the plan %s; nothing was changed (review it, then submit with ?force=1)", strings.Join(c.Brake.Reasons, "; ")),
			"brake": c.Brake,
		})
		return
	}
	if _, err := engine.Create(r.Context(), s.o.Store, c.Runbook, file, digest, time.Now()); err != nil {
		writeStoreError(w, p.Name, err)
		return
	}
	s.o.Logf("run %s: submitted (%s %s)", p.Name, c.Runbook.Strategy, c.Runbook.Hostname)
	s.kick()
	writeJSON(w, http.StatusCreated, map[string]string{"name": p.Name})
}

// conflict says whether a plan cannot start: its name is taken (but the
// same plan while its run is active is fine, and answered as existing),
// or another active run moves the same hostname.
func (s *Server) conflict(ctx context.Context, p *plan.Plan, digest string) (int, any) {
	runs, err := s.o.Store.ListRuns(ctx)
	if err != nil {
		return http.StatusInternalServerError, errorBody(err)
	}
	for _, r := range runs {
		switch {
		case r.Name == p.Name && !r.State.Terminal() && r.PlanDigest == digest:
			return http.StatusOK, map[string]any{"name": r.Name, "existing": true}
		case r.Name == p.Name && r.State.Terminal():
			return http.StatusConflict, errorBody(fmt.Errorf("run %s already ended (%s); give the plan a new name to run it again", r.Name, r.State))
		case r.Name == p.Name:
			return http.StatusConflict, errorBody(fmt.Errorf("run %s is in progress with a different version of the plan", r.Name))
		case sameHost(r.Hostname, p.Hostname) && !r.State.Terminal():
			return http.StatusConflict, errorBody(fmt.Errorf("run %s is already moving %s (%s)", r.Name, r.Hostname, r.State))
		}
	}
	return 0, nil
}

func writePlanError(w http.ResponseWriter, err error) {
	var ds plan.Diagnostics
	lines := []string{}
	if errors.As(err, &ds) {
		ds.Sort()
		for _, d := range ds {
			lines = append(lines, d.String())
		}
	} else {
		lines = append(lines, err.Error())
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid plan", "diagnostics": lines})
}

func writeStoreError(w http.ResponseWriter, name string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Errorf("no run named %s", name))
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusConflict, err)
	default:
		writeError(w, http.StatusInternalServerError, err)
	}
}

func errorBody(err error) map[string]string { return map[string]string{"error": err.Error()} }

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, errorBody(err))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func sameHost(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}
