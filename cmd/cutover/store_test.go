package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/golden"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/etcdstore"
	"github.com/cutover/cutover/internal/store/etcdstore/etcdtest"
)

func TestBadStoreIsUsageError(t *testing.T) {
	for _, u := range []string{"consul://h:8500", "etcd://h1", "etcd://ops:pw@h1:2379"} {
		out, err := runCLI(t, "", "status", "--store", u)
		if exitCode(err) != exitUsage {
			t.Errorf("status --store %s: exit %d, want %d (%v)\n%s", u, exitCode(err), exitUsage, err, out)
		}
	}
	out, err := runCLI(t, "", "status", "--store", "etcd://127.0.0.1:2379", "--etcd-cert", "client.pem")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "--etcd-key") {
		t.Errorf("--etcd-cert without --etcd-key: exit %d (%v)\n%s", exitCode(err), err, out)
	}
}

// TestStatusShowsOwner: on a shared store, status names the controller that
// holds each run's lease, and says when that lease ran out.
func TestStatusShowsOwner(t *testing.T) {
	c := etcdtest.Start(t, 1)
	ctx := context.Background()
	s, err := etcdstore.Open(ctx, etcdstore.Options{Endpoints: c.Endpoints(), Prefix: "/status/"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"held", "stale"} {
		host := name + ".example.com."
		if _, err := s.CreateRun(ctx, store.Run{Name: name, Hostname: host, State: store.StateRunning}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Acquire(ctx, "held.example.com.", "ctl-1:4242", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx, "stale.example.com.", "ctl-2:4343", time.Second); err != nil {
		t.Fatal(err)
	}
	url := "etcd://" + strings.TrimPrefix(c.Endpoints()[0], "http://") + "/status"
	deadline := time.Now().Add(10 * time.Second)
	for { // the short lease runs out by the wall clock
		out, err := runCLI(t, "", "status", "--store", url)
		if err != nil {
			t.Fatalf("status: %v\n%s", err, out)
		}
		if !strings.Contains(out, "OWNER") || !strings.Contains(out, "ctl-1:4242") {
			t.Fatalf("status does not name the owner:\n%s", out)
		}
		if strings.Contains(out, "ctl-2:4343 (lease expired)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the expired lease is not marked:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := runCLI(t, "", "status", "held", "--store", url, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Run struct {
			Owner      string     `json:"owner"`
			OwnerUntil *time.Time `json:"owner_until"`
		} `json:"run"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Run.Owner != "ctl-1:4242" || got.Run.OwnerUntil == nil {
		t.Fatalf("status -o json owner = %+v (%v)\n%s", got.Run, err, out)
	}
}

// TestStatusOwnerGolden renders the run table with an owned run, a run
// whose owner's lease ran out and a run nobody holds.
func TestStatusOwnerGolden(t *testing.T) {
	local := time.Local
	time.Local = time.UTC
	defer func() { time.Local = local }()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	future, past := time.Now().Add(time.Hour), time.Now().Add(-time.Minute)
	runs := []runSummary{
		{Name: "api-move", Hostname: "api.example.com.", State: store.StateRunning, Step: 3, Steps: 9, Updated: at, Owner: "ctl-1:4242", OwnerUntil: &future},
		{Name: "web-move", Hostname: "www.example.com.", State: store.StateRunning, Step: 5, Steps: 9, Updated: at, Owner: "ctl-2:77", OwnerUntil: &past},
		{Name: "cdn-move", Hostname: "cdn.example.com.", State: store.StatePaused, Step: 2, Steps: 12, Updated: at, Reason: "gate errors inconclusive"},
	}
	var out bytes.Buffer
	if err := printRuns(&out, runs, "text"); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "status-owner.golden"), out.Bytes())
}
