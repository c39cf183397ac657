package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/notify"
	"github.com/cutover/cutover/internal/store"
)

// TestServedRunsNotifyAndRecordWhoAsked: a run the server executes tells
// the plan's notification receivers what happens, as apply does, and the
// operator request that rolled it back is recorded with where it came from.
func TestServedRunsNotifyAndRecordWhoAsked(t *testing.T) {
	var mu sync.Mutex
	var got []notify.Message
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err == nil {
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}
	}))
	t.Cleanup(recv.Close)
	f := start(t, time.Hour)
	plan := f.plan + "notify:\n  - {name: ops, kind: webhook, url: " + recv.URL + "}\n"
	if code, body := call(t, "POST", f.url+"/api/v1/runs", testToken, plan); code != http.StatusCreated {
		t.Fatalf("submit: %d %v", code, body)
	}
	f.awaitObserving(t, "api-move", 10)
	if code, body := call(t, "POST", f.url+"/api/v1/runs/api-move/rollback", testToken, ""); code != http.StatusAccepted {
		t.Fatalf("rollback: %d %v", code, body)
	}
	await(t, "the rollback", func() bool { return f.state(t, "api-move").State.Terminal() })
	await(t, "the rolled-back notification", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range got {
			if m.Event == store.EventRunRolledBack && m.Run == "api-move" {
				return true
			}
		}
		return false
	})

	evs, err := f.store.Events(context.Background(), "api-move", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type != store.EventRequested {
			continue
		}
		var d struct{ Action, By string }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Action != "rollback" || !strings.Contains(d.By, "via the API from 127.0.0.1") {
			t.Fatalf("operator request recorded as %+v, want the rollback and where it came from", d)
		}
		return
	}
	t.Fatal("no operator request in the run's events")
}

// TestSubmitRefusesWhatTheSafetyBrakeRefuses: the server applies the
// plan's brake as apply does; ?force=1 lets the plan through.
func TestSubmitRefusesWhatTheSafetyBrakeRefuses(t *testing.T) {
	f := start(t, time.Hour)
	plan := f.plan + "brake: {max_share: 0.01, min_record_sets: 1}\n"
	code, body := call(t, "POST", f.url+"/api/v1/runs", testToken, plan)
	if msg, _ := body["error"].(string); code != http.StatusBadRequest || !strings.Contains(msg, "safety brake") {
		t.Fatalf("braked plan: %d %v", code, body)
	}
	if runs, _ := f.store.ListRuns(context.Background()); len(runs) != 0 {
		t.Fatalf("a braked plan created %d runs", len(runs))
	}
	if code, body := call(t, "POST", f.url+"/api/v1/runs?dry_run=1", testToken, plan); code != http.StatusOK || !strings.Contains(body["plan"].(string), "SAFETY BRAKE") {
		t.Fatalf("dry run of a braked plan: %d %v", code, body)
	}
	if code, body := call(t, "POST", f.url+"/api/v1/runs?force=1", testToken, plan); code != http.StatusCreated {
		t.Fatalf("braked plan with force=1: %d %v", code, body)
	}
}
