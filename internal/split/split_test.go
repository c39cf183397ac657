package split_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/elbv2"
	"github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/lab/world"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/split"
	"github.com/cutover/cutover/internal/store"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func weights(old, nw int64) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"change_id": "C1", "weights": runbook.Weights{Old: old, New: nw}})
	return b
}

func ev(at time.Duration, typ store.EventType, step int, data json.RawMessage) store.Event {
	return store.Event{Time: t0.Add(at), Type: typ, Step: step, Data: data}
}

// fixed serves request counts per edge id and period start.
type fixed map[string]map[int64]float64

func (f fixed) Requests(_ context.Context, e split.Edge, start, end time.Time, period time.Duration) (map[int64]float64, error) {
	if e.Kind == runbook.TargetEndpoint {
		return nil, split.ErrNoMetrics
	}
	out := map[int64]float64{}
	for k, v := range f[e.ID] {
		if k >= start.Unix() && k < end.Unix() {
			out[k] = v
		}
	}
	return out, nil
}

func minute(n int) int64 { return t0.Add(time.Duration(n) * time.Minute).Unix() }

func pct(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', 0, 64)
}

func render(points []split.Point) string {
	s := ""
	for _, p := range points {
		s += fmt.Sprintf("%s %g/%s ", p.At.Sub(t0), p.IntendedNew, pct(p.ObservedNew))
	}
	return s
}

func albs() *runbook.Runbook {
	return &runbook.Runbook{
		Name: "r", Hostname: "api.example.com.",
		From:  &runbook.Target{Kind: runbook.TargetALB, ID: "old"},
		To:    &runbook.Target{Kind: runbook.TargetALB, ID: "new"},
		Steps: []runbook.Step{{ID: "s0", Observe: &runbook.Observe{Weights: &runbook.Weights{Old: 50, New: 50}}}},
	}
}

func TestSeriesIntendedAgainstObserved(t *testing.T) {
	run := store.Run{Name: "r", State: store.StateDone, CreatedAt: t0, UpdatedAt: t0.Add(150 * time.Second)}
	events := []store.Event{
		ev(0, store.EventRunStarted, 0, nil),
		ev(10*time.Second, store.EventChangeApplied, 1, weights(90, 10)),
		ev(70*time.Second, store.EventChangeApplied, 1, weights(50, 50)),
		ev(150*time.Second, store.EventRunDone, 2, nil),
	}
	m := fixed{"old": {minute(0): 90, minute(1): 50}, "new": {minute(0): 10, minute(1): 50}}
	points, err := split.Series(context.Background(), run, albs(), events, m, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := "0s 0/10 10s 10/- 1m0s 10/50 1m10s 50/- 2m0s 50/- "
	if got := render(points); got != want {
		t.Fatalf("series\n got %s\nwant %s", got, want)
	}
}

func TestIntendedFollowsObservationsAndRollback(t *testing.T) {
	rollback, _ := json.Marshal([]runbook.Step{{ID: "r0", Change: &runbook.Change{}}})
	run := store.Run{Name: "r", State: store.StateRolledBack, CreatedAt: t0, Data: map[string]json.RawMessage{"rollback": rollback}}
	events := []store.Event{
		ev(0, store.EventRunStarted, 0, nil),
		// A staging-style observation at 50 % names no change event.
		ev(time.Second, store.EventWaitStarted, 0, nil),
		ev(2*time.Second, store.EventRollbackStarted, 0, nil),
		// Step 0 of the rollback is no observation: nothing changes here.
		ev(3*time.Second, store.EventWaitStarted, 0, nil),
		ev(4*time.Second, store.EventRunRolledBack, 1, nil),
	}
	got := split.Intended(run, albs(), events)
	want := []split.Step{{At: t0, New: 0}, {At: t0.Add(time.Second), New: 50}, {At: t0.Add(4 * time.Second), New: 0}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("intended %v, want %v", got, want)
	}
}

func TestEndpointsHaveNoObservedSplit(t *testing.T) {
	rb := albs()
	rb.From = &runbook.Target{Kind: runbook.TargetEndpoint, ID: "old.example.net"}
	run := store.Run{Name: "r", State: store.StateDone, CreatedAt: t0, UpdatedAt: t0.Add(time.Minute)}
	points, err := split.Series(context.Background(), run, rb, []store.Event{ev(0, store.EventRunStarted, 0, nil)}, fixed{}, time.Minute)
	if err != nil || len(points) != 2 || points[0].ObservedNew != nil || points[1].ObservedNew != nil {
		t.Fatalf("points %v, %v: want two without an observed split", render(points), err)
	}
}

type failing struct{}

func (failing) Requests(context.Context, split.Edge, time.Time, time.Time, time.Duration) (map[int64]float64, error) {
	return nil, errors.New("throttled")
}

func TestFuncReportsMetricsErrorsBesideTheIntendedSplit(t *testing.T) {
	run := store.Run{Name: "r", State: store.StateDone, CreatedAt: t0, UpdatedAt: t0.Add(2 * time.Minute)}
	events := []store.Event{ev(0, store.EventRunStarted, 0, nil), ev(30*time.Second, store.EventChangeApplied, 1, weights(0, 100))}
	got, err := split.NewFunc(failing{})(context.Background(), run, albs(), events)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	var res struct {
		Points []struct {
			Intended float64  `json:"intended_new"`
			Observed *float64 `json:"observed_new"`
		} `json:"points"`
		ObservedError string `json:"observed_error"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != 4 || res.Points[3].Intended != 100 || res.Points[3].Observed != nil || res.ObservedError == "" {
		t.Fatalf("result %s", b)
	}
}

func TestPeriodFor(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{
		time.Hour: time.Minute, 12 * time.Hour: 2 * time.Minute, 72 * time.Hour: 7 * time.Minute,
	} {
		if got := split.PeriodFor(d); got != want || int(d/got) > split.MaxPoints {
			t.Errorf("PeriodFor(%s) = %s, want %s", d, got, want)
		}
	}
}

// TestCloudWatchAgainstTheLabsEdges sends requests through the lab's load
// balancers, lets the edges publish their RequestCount to the lab's
// CloudWatch, and reads the split back over the wire.
func TestCloudWatchAgainstTheLabsEdges(t *testing.T) {
	clk := fakeclock.New(t0)
	w, err := world.Start(context.Background(), world.Options{
		Lab:     lab.Options{Clock: clk, Propagation: -1, DeployDelay: -1, RateLimit: route53.RateLimitOff, HealthyAfter: time.Nanosecond},
		APIAddr: "127.0.0.1:0", DNSAddr: "127.0.0.1:0", EphemeralPorts: true, Edges: 1,
		MetricsPeriod: 24 * time.Hour, HealthInterval: 24 * time.Hour,
		Origins: []world.OriginSpec{{Name: "old", Addr: "127.0.0.1:0"}, {Name: "new", Addr: "127.0.0.1:0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rb := &runbook.Runbook{Name: "r"}
	for _, side := range []string{"old", "new"} {
		o, _ := w.Origins.Get(side)
		lb, err := w.Lab.ELB.CreateALB(awsapi.DefaultAccountID, "api-"+side, "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Lab.ELB.AddTargetGroup(lb.ARN, "tg-"+side, 80, []elbv2.Target{{ID: "127.0.0.1", Port: o.Port()}}); err != nil {
			t.Fatal(err)
		}
		target := &runbook.Target{Kind: runbook.TargetALB, ID: lb.Name, DNSName: lb.DNSName, ARN: lb.ARN}
		if side == "old" {
			rb.From = target
		} else {
			rb.To = target
		}
	}
	w.Sim.Sync()
	get := func(dnsName string, n int) {
		t.Helper()
		addr, ok := w.Sim.LBAddr(dnsName)
		if !ok {
			t.Fatalf("no address for %s", dnsName)
		}
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(addr.String(), strconv.Itoa(w.HTTPPort())))
		}}}
		for range n {
			resp, err := c.Get("http://api.example.com/ruok")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s answered %d", dnsName, resp.StatusCode)
			}
		}
	}
	// Minute 0: 9 requests to the old edge, 1 to the new. Minute 1: 3 and 3.
	clk.Advance(30 * time.Second)
	get(rb.From.DNSName, 9)
	get(rb.To.DNSName, 1)
	if err := w.Sim.Flush(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	get(rb.From.DNSName, 3)
	get(rb.To.DNSName, 3)
	if err := w.Sim.Flush(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)

	run := store.Run{Name: "r", State: store.StateDone, CreatedAt: t0, UpdatedAt: t0.Add(150 * time.Second)}
	events := []store.Event{ev(0, store.EventRunStarted, 0, nil), ev(150*time.Second, store.EventRunDone, 2, nil)}
	m := split.NewCloudWatchClient(cw.NewFromConfig(w.AWSConfig()))
	points, err := split.Series(context.Background(), run, rb, events, m, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := render(points), "0s 0/10 1m0s 0/50 2m0s 0/- "; got != want {
		t.Fatalf("series from the lab's CloudWatch\n got %s\nwant %s", got, want)
	}
	// A load balancer without an ARN has no dimension to read.
	rb.To.ARN = ""
	if _, err := m.Requests(context.Background(), split.Edge{Target: *rb.To}, t0, t0.Add(time.Minute), time.Minute); !errors.Is(err, split.ErrNoMetrics) {
		t.Fatalf("no ARN: %v, want ErrNoMetrics", err)
	}
}
