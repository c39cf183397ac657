package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// The audit report reads each CloudFront change's before and after from
// the events: aliases.updated carries the distribution before the call,
// associate.done both distributions before and after the move.
func TestCDNEventsCarryBeforeAndAfter(t *testing.T) {
	w := newCDNWorld(t, "associate")
	w.gates["errors"] = gate.Func(passing)
	w.run(t)
	evs, err := w.store.Events(context.Background(), w.rb.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	var moved *associateData
	for _, e := range evs {
		if e.Type == store.EventAssociateDone {
			moved = &associateData{}
			if err := json.Unmarshal(e.Data, moved); err != nil {
				t.Fatal(err)
			}
		}
	}
	if moved == nil || len(moved.Changes) != 2 {
		t.Fatalf("associate.done data %+v, want the source and the target", moved)
	}
	got := fmt.Sprintf("%s %v %v %s %v %v", moved.Changes[0].Distribution, moved.Changes[0].Before.Aliases, moved.Changes[0].After.Aliases,
		moved.Changes[1].Distribution, moved.Changes[1].Before.Aliases, moved.Changes[1].After.Aliases)
	if want := "EOLD [cdn.example.com] [] ENEW [] [cdn.example.com]"; got != want {
		t.Fatalf("associate.done changes %s, want %s", got, want)
	}

	// An aliases step on its own: the event names the aliases before.
	rb := &runbook.Runbook{Name: "aliases", Hostname: "cdn.example.com.", Zone: zone,
		Steps: []runbook.Step{{ID: "a1", Title: "add an alias", Aliases: &runbook.Aliases{Distribution: "EOLD", Add: []string{"www.example.com"}}}}}
	if _, err := Create(context.Background(), w.store, rb, "plan.yaml", "d", w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	run, err := w.engine(func(o *Options) { o.CDN = w.cdn }).Run(context.Background(), rb.Name)
	if err != nil || run.State != store.StateDone {
		t.Fatalf("aliases run: %v %s (%s)", err, run.State, run.Reason)
	}
	evs, _ = w.store.Events(context.Background(), rb.Name, 0)
	for _, e := range evs {
		if e.Type != store.EventAliasesUpdated {
			continue
		}
		var d struct {
			cdn.Distribution
			Before *cdn.Distribution `json:"before"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.ID != "EOLD" || fmt.Sprint(d.Aliases) != "[www.example.com]" || d.Before == nil || len(d.Before.Aliases) != 0 {
			t.Fatalf("aliases.updated data %s", e.Data)
		}
		return
	}
	t.Fatal("no aliases.updated event")
}
