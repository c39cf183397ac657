package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/lab/load"
)

// TestWeightedDemoMovesTrafficWithoutFailures runs the whole demo: lab,
// DNS, edges, origins, client load and the engine over the wire.
func TestWeightedDemoMovesTrafficWithoutFailures(t *testing.T) {
	rep, err := Run(context.Background(), Options{Scenario: ScenarioWeighted, Clients: 10, Rate: 60})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != "done" || !rep.OK {
		t.Fatalf("outcome %s ok=%v reason %q", rep.Outcome, rep.OK, rep.Reason)
	}
	if rep.Failed != 0 {
		t.Fatalf("%d client requests failed: %v", rep.Failed, rep.Load.Errors)
	}
	// Both sides served: the split really moved under the clients.
	if rep.Load.ByOrigin["old"] == 0 || rep.Load.ByOrigin["new"] == 0 {
		t.Fatalf("served by origin: %v", rep.Load.ByOrigin)
	}
	var buf bytes.Buffer
	rep.WriteText(&buf)
	if !strings.Contains(buf.String(), "verdict: PASS") {
		t.Fatalf("report:\n%s", buf.String())
	}
}

// TestRollbackDemoRevertsWithinBound injects a 5xx fault at 50% and
// expects the gate to roll the run back within the plan's bound, with no
// failure other than the fault's own.
func TestRollbackDemoRevertsWithinBound(t *testing.T) {
	rep, err := Run(context.Background(), Options{Scenario: ScenarioRollback, Clients: 10, Rate: 60})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != "rolled-back" || !rep.OK {
		t.Fatalf("outcome %s ok=%v after %s (bound %s), failed %d fault-caused %d (%v)", rep.Outcome, rep.OK, rep.RollbackAfter, rep.RollbackBound, rep.Failed, rep.FaultCaused, rep.Load.Errors)
	}
	if rep.RollbackAfter <= 0 || rep.RollbackAfter > rep.RollbackBound {
		t.Fatalf("rollback after %s, bound %s", rep.RollbackAfter, rep.RollbackBound)
	}
	if rep.FaultCaused == 0 {
		t.Fatal("the injected fault caused no failure: the scenario did not exercise the gate")
	}
}

// TestAliasMoveDemoLeavesNothingOnTheOldOrigin moves a CloudFront alias
// with AssociateAlias under load: no request fails, and once the run says
// done no edge answers from the old origin.
func TestAliasMoveDemoLeavesNothingOnTheOldOrigin(t *testing.T) {
	rep, err := Run(context.Background(), Options{Scenario: ScenarioAliasMove, Clients: 10, Rate: 60})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != "done" || !rep.OK {
		t.Fatalf("outcome %s ok=%v failed %d (%v) old-after-done %d", rep.Outcome, rep.OK, rep.Failed, rep.Load.Errors, rep.OldAfterDone)
	}
	if rep.Load.ByOrigin["old"] == 0 || rep.Load.ByOrigin["new"] == 0 {
		t.Fatalf("served by origin: %v", rep.Load.ByOrigin)
	}
}

// TestBridgeDemoIsSeed001WithoutFailures runs seed 001's migration as a
// runbook: weighted old → bridge, drain, alias move, weighted bridge → new,
// with the bridge proxy in the path.
func TestBridgeDemoIsSeed001WithoutFailures(t *testing.T) {
	rep, err := Run(context.Background(), Options{Scenario: ScenarioBridge, Clients: 10, Rate: 60})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != "done" || !rep.OK {
		t.Fatalf("outcome %s ok=%v failed %d (%v) old-after-done %d", rep.Outcome, rep.OK, rep.Failed, rep.Load.Errors, rep.OldAfterDone)
	}
}

// TestMaintenanceDemoServesThePageAndRestoresTheRecords is seed 002 under
// load: clients get the 503 page while on, none fails, and off puts the
// records back byte for byte.
func TestMaintenanceDemoServesThePageAndRestoresTheRecords(t *testing.T) {
	rep, err := Run(context.Background(), Options{Scenario: ScenarioMaintenance, Clients: 10, Rate: 60})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != "done" || !rep.OK || !rep.RecordsRestored || rep.Failed != 0 {
		t.Fatalf("outcome %s ok=%v restored=%v failed %d (%v)", rep.Outcome, rep.OK, rep.RecordsRestored, rep.Failed, rep.Load.Errors)
	}
	if rep.Load.ByOrigin["old"] == 0 || rep.Load.ByOrigin[pageOrigin] == 0 || rep.Load.ByClass[load.ClassMaintenance] != rep.Load.ByOrigin[pageOrigin] {
		t.Fatalf("served by origin %v, by class %v", rep.Load.ByOrigin, rep.Load.ByClass)
	}
}
