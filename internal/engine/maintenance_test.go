package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

type fakeHealthChecks struct {
	calls []runbook.HealthCheck
	err   error
}

func (f *fakeHealthChecks) SetHealthCheckInverted(_ context.Context, id string, inverted bool) error {
	f.calls = append(f.calls, runbook.HealthCheck{ID: id, Inverted: inverted})
	return f.err
}

func maintenanceSpec() runbook.Spec {
	return runbook.Spec{Name: "api", Hostname: "api.example.com", Zone: zone, Strategy: "maintenance", CutoverTTL: 30,
		Maintenance: &runbook.MaintenanceSpec{Mode: runbook.MaintenanceFailover, HealthCheck: "0e1d5f3c-6a7b-4c8d-9e0f-123456789abc", Invert: true}}
}

func events(t *testing.T, w *world) map[store.EventType]int {
	t.Helper()
	evs, err := w.store.Events(context.Background(), "api", 0)
	if err != nil {
		t.Fatal(err)
	}
	n := map[store.EventType]int{}
	for _, e := range evs {
		n[e.Type]++
	}
	return n
}

// A maintenance run in failover mode inverts the check through the
// engine's HealthChecks and reports maintenance.on when done; without a
// client, or when the call fails, it pauses instead.
func TestMaintenanceRunInvertsTheHealthCheck(t *testing.T) {
	w := newWorld(t, maintenanceSpec())
	hc := &fakeHealthChecks{}
	run, err := w.engine(func(o *Options) { o.HealthChecks = hc }).Run(context.Background(), "api")
	if err != nil || run.State != store.StateDone {
		t.Fatalf("run: %v %s %s", err, run.State, run.Reason)
	}
	if len(hc.calls) != 1 || !hc.calls[0].Inverted {
		t.Fatalf("calls %+v", hc.calls)
	}
	if n := events(t, w); n[store.EventHealthCheckUpdated] != 1 || n[store.EventMaintenanceOn] != 1 {
		t.Fatalf("events %v", n)
	}
}

func TestMaintenanceHealthCheckStepPausesWithoutAClient(t *testing.T) {
	for _, c := range []struct {
		name string
		hc   HealthChecks
	}{{"no client", nil}, {"refused", &fakeHealthChecks{err: errors.New("HealthCheckVersionMismatch")}}} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, maintenanceSpec())
			run, err := w.engine(func(o *Options) { o.HealthChecks = c.hc }).Run(context.Background(), "api")
			if err != nil || run.State != store.StatePaused || run.Step != 2 {
				t.Fatalf("run: %v %s at step %d: %s", err, run.State, run.Step, run.Reason)
			}
			if n := events(t, w); n[store.EventHealthCheckFailed] != 1 || n[store.EventMaintenanceOn] != 0 {
				t.Fatalf("events %v", n)
			}
		})
	}
}
