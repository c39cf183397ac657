package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
	"github.com/cutover/cutover/internal/webhook"
)

// TestApprovalWebhooksAndNotificationsThroughTheCLI applies a lab plan that
// waits for approval, with a signed webhook and a Slack-compatible
// notification receiver, and approves it from the state file as
// `cutover promote` does from another terminal.
func TestApprovalWebhooksAndNotificationsThroughTheCLI(t *testing.T) {
	l, seeded := labWorld(t)
	var mu sync.Mutex
	var hooks []webhook.Payload
	var texts []string
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhook.Verify([]byte("hook-secret"), body, r.Header.Get(webhook.HeaderSignature)) {
			t.Errorf("unsigned or badly signed webhook call: %s", body)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		hooks = append(hooks, p)
		mu.Unlock()
	}))
	defer hookSrv.Close()
	slackSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		texts = append(texts, m["text"])
		mu.Unlock()
	}))
	defer slackSrv.Close()
	t.Setenv("CUTOVER_TEST_HOOK_SECRET", "hook-secret")
	t.Setenv("CUTOVER_TEST_SLACK_URL", slackSrv.URL)

	planPath := writePlanSteps(t, seeded.Zones["example.com"], "  - {weight: 10}\n  - approve: {}\n  - {weight: 100}\n", fmt.Sprintf(`webhooks:
  - {name: ci, type: confirm-promotion, url: %q, secret_env: CUTOVER_TEST_HOOK_SECRET}
notify:
  - {name: ops, kind: slack, url_env: CUTOVER_TEST_SLACK_URL}
`, hookSrv.URL))
	state := filepath.Join(t.TempDir(), "state.db")
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--auto-approve", "--poll", "20ms")
		done <- result{out, err}
	}()

	// Wait until the run waits for approval (another terminal's view).
	deadline := time.Now().Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("the run never reached its approval step")
		}
		if run, ok := readRun(t, state); ok && run.StepPhase == "awaiting-approval" {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("apply ended before the approval: %v\n%s", r.err, r.out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	// Nothing moves past 10 % before the approval.
	if w := weights(t, l, seeded.Zones["example.com"]); w != "old=90 new=10" {
		t.Fatalf("weights while waiting for approval: %s", w)
	}
	mu.Lock()
	confirmed := len(hooks)
	mu.Unlock()
	if confirmed != 0 {
		t.Fatal("confirm-promotion called before the approval")
	}
	s, err := boltstore.Open(state, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Request(context.Background(), "api-move", store.RequestPromote)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("apply did not finish after the approval")
	}
	if r.err != nil {
		t.Fatalf("apply: %v\n%s", r.err, r.out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hooks) != 1 || hooks[0].Type != "confirm-promotion" || hooks[0].Weights == nil || hooks[0].Weights.New != 10 {
		t.Fatalf("webhook calls %+v, want one confirm-promotion at 10 %%", hooks)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"waiting for approval", "approved", "done", "weights: old 0% / new 100%"} {
		if !strings.Contains(all, want) {
			t.Errorf("notifications lack %q:\n%s", want, all)
		}
	}
}

func readRun(t *testing.T, path string) (store.Run, bool) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return store.Run{}, false
	}
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		return store.Run{}, false
	}
	defer s.Close()
	run, err := s.GetRun(context.Background(), "api-move")
	return run, err == nil
}

// weights renders the lab zone's weighted legs at api.example.com.
func weights(t *testing.T, l *lab.Lab, zone string) string {
	t.Helper()
	recs, _ := l.Route53.Records(zone)
	var old, nw int64 = -1, -1
	for _, r := range recs {
		if r.Name != "api.example.com." || r.Weight == nil {
			continue
		}
		switch r.SetIdentifier {
		case "cutover-from":
			old = *r.Weight
		case "cutover-to":
			nw = *r.Weight
		}
	}
	return fmt.Sprintf("old=%d new=%d", old, nw)
}
