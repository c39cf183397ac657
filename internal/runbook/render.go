package runbook

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

// Render writes the runbook the way `cutover plan` shows it: each record
// change with before and after, each wait with its reason and duration,
// the predicted total and the worst-case rollback time. insync is the
// propagation time assumed per change.
func Render(w io.Writer, rb *Runbook, from, to Target, insync time.Duration) {
	var example *Runbook
	if rb.IsBulk() {
		fmt.Fprintf(w, "cutover plan %s: %s %s\n\n", rb.Name, rb.Strategy, rb.BulkSize())
		example, _ = rb.HostRunbook(0)
	} else {
		fmt.Fprintf(w, "cutover plan %s: %s %s in zone %s\n\n", rb.Name, rb.Strategy, strings.TrimSuffix(rb.Hostname, "."), rb.Zone)
	}
	// A maintenance run compiled from flags names no edges: its change
	// titles say where the records point.
	if from.Kind != "" {
		fmt.Fprintf(w, "  from  %s\n", describeTarget(from))
	}
	if to.Kind != "" {
		fmt.Fprintf(w, "  to    %s\n", describeTarget(to))
	}
	for i, c := range rb.Calls() {
		label := "        "
		if i == 0 {
			label = "  calls "
		}
		fmt.Fprintf(w, "%s%s: %s\n", label, c.What, c.As)
	}
	fmt.Fprintf(w, "  now   ")
	original := rb.Original
	if example != nil {
		fmt.Fprintf(w, "%s; the first:\n        ", rb.BulkZones())
		original = example.Original
	}
	for i, r := range original {
		if i > 0 {
			fmt.Fprintf(w, "        ")
		}
		fmt.Fprintf(w, "%s\n", r)
	}
	fmt.Fprintf(w, "        (fingerprint %s)\n\n", rb.Fingerprint)
	if example != nil {
		fmt.Fprintf(w, "  each change step changes every hostname at once, a zone's changes packed into as few Route 53 requests as its limits allow; shown for %s:\n\n", strings.TrimSuffix(example.Hostname, "."))
	}
	width := len(fmt.Sprint(len(rb.Steps)))
	for i, s := range rb.Steps {
		n := fmt.Sprintf("%*d.", width, i+1)
		switch {
		case s.Change != nil:
			fmt.Fprintf(w, "%s change   %s\n", n, s.Title)
			pad := strings.Repeat(" ", width+10)
			for _, c := range s.Change.Set.Changes {
				if c.Old != nil {
					fmt.Fprintf(w, "%s- %s\n", pad, c.Old)
				}
				if c.New != nil {
					fmt.Fprintf(w, "%s+ %s\n", pad, c.New)
				}
			}
		case s.BulkChange != nil:
			fmt.Fprintf(w, "%s change   %s (%d hostnames)\n", n, s.Title, s.BulkChange.Hosts)
			if example != nil && i < len(example.Steps) && example.Steps[i].Change != nil {
				pad := strings.Repeat(" ", width+10)
				for _, c := range example.Steps[i].Change.Set.Changes {
					if c.Old != nil {
						fmt.Fprintf(w, "%s- %s\n", pad, c.Old)
					}
					if c.New != nil {
						fmt.Fprintf(w, "%s+ %s\n", pad, c.New)
					}
				}
			}
		case s.InSync != nil:
			fmt.Fprintf(w, "%s insync   %s (≤ %s)\n", n, s.Title, s.InSync.Timeout.D())
		case s.Wait != nil:
			fmt.Fprintf(w, "%s wait     %s: %s\n", n, s.Wait.Duration.D(), s.Wait.Reason)
		case s.Observe != nil:
			fmt.Fprintf(w, "%s observe  %s %s%s\n", n, s.Observe.Duration.D(), s.Title, gateList(s.Observe.Gates))
		case s.Verify != nil:
			fmt.Fprintf(w, "%s verify   %s (path %s)\n", n, s.Title, orDash(s.Verify.Path))
		case s.Hold != nil:
			fmt.Fprintf(w, "%s hold     %s %s%s\n", n, s.Hold.Duration.D(), s.Title, gateList(s.Hold.Gates))
		case s.Drain != nil:
			fmt.Fprintf(w, "%s drain    %s%s\n", n, s.Title, gateList(s.Drain.Gates))
		case s.Approve != nil:
			fmt.Fprintf(w, "%s approve  %s%s\n", n, s.Title, gateList(s.Approve.Gates))
		case s.Deployed != nil:
			settle := ""
			if s.Deployed.Settle > 0 {
				settle = fmt.Sprintf(", settle %s", s.Deployed.Settle.D())
			}
			fmt.Fprintf(w, "%s deployed %s (≤ %s%s)\n", n, s.Title, s.Deployed.Timeout.D(), settle)
		case s.WatchAlias != nil:
			fmt.Fprintf(w, "%s watch    %s (poll %s, ≤ %s, then roll back)\n", n, s.Title, s.WatchAlias.Poll.D(), s.WatchAlias.Timeout.D())
		default:
			fmt.Fprintf(w, "%s %-8s %s\n", n, s.Kind(), s.Title)
		}
	}
	total, rollback := rb.Estimate(insync)
	fmt.Fprintf(w, "\n  predicted duration   %s (assuming %s per change to propagate)\n", roundDur(total), insync)
	fmt.Fprintf(w, "  worst-case rollback  %s (detection + propagation + TTL)\n", roundDur(rollback))
	if n := rb.approvals(); n > 0 {
		fmt.Fprintf(w, "  approvals            %d: the run waits at each for `cutover promote %s` (not counted above)\n", n, rb.Name)
	}
	for _, n := range rb.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

func describeTarget(t Target) string {
	s := fmt.Sprintf("%s %s → %s", t.Kind, t.ID, t.DNSName)
	if t.AliasZoneID != "" {
		s += " (alias zone " + t.AliasZoneID + ")"
	}
	return s
}

func gateList(g []string) string {
	if len(g) == 0 {
		return ""
	}
	return " — gates: " + strings.Join(g, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "/"
	}
	return s
}

func roundDur(d time.Duration) time.Duration { return d.Round(time.Second) }

// Changes lists every record change of the runbook in order, for JSON
// output and audits.
func (rb *Runbook) Changes() []dns.ChangeSet {
	var out []dns.ChangeSet
	for _, s := range rb.Steps {
		if s.Change != nil {
			out = append(out, s.Change.Set)
		}
	}
	return out
}

func (rb *Runbook) approvals() int {
	n := 0
	for _, s := range rb.Steps {
		if s.Approve != nil {
			n++
		}
	}
	return n
}
