package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/pack"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// zoneName is the name of zone k.
func zoneName(k int) string { return fmt.Sprintf("z%d.example.com", k) }

// hostName is hostname i, in zone i mod zones.
func hostName(i, zones int) string { return fmt.Sprintf("h%d.%s", i, zoneName(i%zones)) }

// seedYAML is a lab seed of n CNAME hostnames → old.example.net (TTL 1)
// spread round-robin over zones zones.
func seedYAML(n, zones int) string {
	var b strings.Builder
	b.WriteString("zones:\n")
	for k := range zones {
		fmt.Fprintf(&b, "  - name: %s\n", zoneName(k))
	}
	b.WriteString("records:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {zone: %s, name: %s, type: CNAME, ttl: 1, values: [old.example.net]}\n", zoneName(i%zones), hostName(i, zones))
	}
	return b.String()
}

// planYAML is the bulk weighted plan selecting every hostname of every
// zone (zone name → id) by its zone's glob; single makes it the plan of
// the first hostname alone, a one-hostname run that checks the harness.
// rateLimit is the account's regime the lab runs (legacy or buckets), which
// the plan's zone.rate_limit tells the run.
func planYAML(name string, zoneIDs map[string]string, zones int, weights []int, single bool, rateLimit string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: cutover/v1\nkind: Cutover\nname: %s\n", name)
	if single {
		fmt.Fprintf(&b, "hostname: %s\nzone: {id: %s, rate_limit: %s}\n", hostName(0, zones), zoneIDs[zoneName(0)], rateLimit)
	} else {
		// Every record of every zone moves: the safety brake is told so.
		fmt.Fprintf(&b, "zone: {rate_limit: %s}\nbrake: {max_share: 1}\nhostnames:\n", rateLimit)
		for k := range zones {
			fmt.Fprintf(&b, "  - {zone: %s, match: \"*.%s\"}\n", zoneIDs[zoneName(k)], zoneName(k))
		}
	}
	b.WriteString("from: {endpoint: old.example.net}\nto: {endpoint: new.example.net}\nstrategy: weighted\nttl: {cutover: 1}\nhold: 0s\nsteps:\n")
	for _, w := range weights {
		fmt.Fprintf(&b, "  - {weight: %d}\n", w)
	}
	return b.String()
}

// stepMinimum is, for every BulkChange step of rb (by index), the fewest
// requests its changes need: each zone's hostnames' changes at that step,
// packed within pack.Route53.
func stepMinimum(rb *runbook.Runbook) (map[int]int, error) {
	if rb.Bulk == nil {
		// One hostname: a change step is one request.
		out := map[int]int{}
		for k, s := range rb.Steps {
			if s.Change != nil && len(s.Change.Set.Changes) > 0 {
				out[k] = pack.Minimum([][]dns.Change{s.Change.Set.Changes}, pack.Route53)
			}
		}
		return out, nil
	}
	// step → zone → groups
	groups := map[int]map[string][][]dns.Change{}
	for k, s := range rb.Steps {
		if s.BulkChange != nil {
			groups[k] = map[string][][]dns.Change{}
		}
	}
	for i, h := range rb.Bulk.Hosts {
		hr, err := rb.HostRunbook(i)
		if err != nil {
			return nil, err
		}
		for k := range groups {
			if c := hr.Steps[k].Change; c != nil && len(c.Set.Changes) > 0 {
				groups[k][h.Zone] = append(groups[k][h.Zone], c.Set.Changes)
			}
		}
	}
	out := map[int]int{}
	for k, byZone := range groups {
		for _, g := range byZone {
			out[k] += pack.Minimum(g, pack.Route53)
		}
	}
	return out, nil
}

// budget is an account's Route 53 request budget.
type budget struct {
	rate  float64 // requests a second
	burst int
}

var budgets = map[string]budget{"legacy": {5, 5}, "buckets": {10, 50}}

// floor is the least time a step of writes requests can take under b,
// when the account's bucket holds level tokens as the step starts: each
// request needs a GetChange too, those beyond the tokens at hand come at
// the account's rate, and the last change then takes one propagation
// delay.
func floor(writes int, b budget, level float64, propagation time.Duration) time.Duration {
	calls := float64(2 * writes)
	beyond := max(0, calls-level)
	return time.Duration(beyond/b.rate*float64(time.Second)) + propagation
}

// bucketLevel replays the lab's Route 53 calls through the account's token
// bucket (full at the first call; a throttled call takes no token) and
// says how many tokens it holds at time at: what the step starting then
// can spend before it must wait for the refill. Steps follow each other
// closely, so a step rarely starts with the whole burst.
func bucketLevel(calls []awsapi.Call, b budget, at time.Time) float64 {
	level := float64(b.burst)
	var prev time.Time
	refill := func(t time.Time) {
		if !prev.IsZero() {
			level = min(float64(b.burst), level+b.rate*t.Sub(prev).Seconds())
		}
		prev = t
	}
	for _, c := range calls {
		if c.Service != "route53" || !c.Time.Before(at) {
			continue
		}
		refill(c.Time)
		if c.Status == 200 {
			level = max(0, level-1)
		}
	}
	refill(at)
	return level
}

// stepRow is what one change step of a run measured.
type stepRow struct {
	step       int
	title      string
	hosts      int
	writes     int // ChangeResourceRecordSets answered
	throttled  int // of which refused with 400 Throttling / 429 / 503
	getChanges int
	other      int // every other Route 53 call
	minimum    int
	wall       time.Duration
	floor      time.Duration
}

// stepRows attributes the lab's calls to the run's change steps by time.
// A change step is a BulkChange step with the insync steps right after
// it: it holds what happened from the last event of the step before it
// (when the run moved on to it; for the first step, its own first event)
// until the first event of the step after it (the last: until the end).
// Its wall time runs from that start to its last change event (the last
// INSYNC; without change events, its last event).
func stepRows(rb *runbook.Runbook, events []store.Event, calls []awsapi.Call, minimum map[int]int, b budget, propagation time.Duration) []stepRow {
	first := map[int]time.Time{}
	last := map[int]time.Time{}
	lastChange := map[int]time.Time{}
	ids := map[string]int{}
	for k, s := range rb.Steps {
		ids[s.ID] = k
	}
	for _, e := range events {
		k := stepOf(e, ids)
		if k < 0 || k >= len(rb.Steps) || strings.HasPrefix(string(e.Type), "rollback") {
			continue
		}
		if _, ok := first[k]; !ok {
			first[k] = e.Time
		}
		last[k] = e.Time
		if strings.HasPrefix(string(e.Type), "change.") {
			lastChange[k] = e.Time
		}
	}
	var rows []stepRow
	for k, s := range rb.Steps {
		hosts := 0
		switch {
		case s.BulkChange != nil:
			hosts = s.BulkChange.Hosts
		case s.Change != nil && !rb.IsBulk():
			hosts = 1 // a one-hostname run, for checking the harness
		default:
			continue
		}
		from, ran := first[k]
		if !ran {
			continue
		}
		if t, ok := last[k-1]; ok && k > 0 && t.Before(from) {
			// The step began when the one before it ended: computing and
			// packing its changes, before its first event, is its time too.
			from = t
		}
		end := k + 1
		for end < len(rb.Steps) && rb.Steps[end].Kind() == "insync" {
			end++
		}
		var until time.Time // the next step's start, zero for none
		for j := end; j < len(rb.Steps); j++ {
			if t, ok := first[j]; ok {
				until = t
				break
			}
		}
		var done, doneChange time.Time
		for j := k; j < end; j++ {
			if t, ok := last[j]; ok && t.After(done) {
				done = t
			}
			if t, ok := lastChange[j]; ok && t.After(doneChange) {
				doneChange = t
			}
		}
		if !doneChange.IsZero() {
			done = doneChange
		}
		r := stepRow{step: k, title: s.Title, hosts: hosts, minimum: minimum[k], wall: done.Sub(from)}
		for _, c := range calls {
			if c.Time.Before(from) || (!until.IsZero() && !c.Time.Before(until)) {
				continue
			}
			switch c.Operation {
			case "ChangeResourceRecordSets":
				r.writes++
				if c.Status != 200 {
					r.throttled++
				}
			case "GetChange":
				r.getChanges++
			default:
				r.other++
			}
		}
		r.floor = floor(r.minimum, b, bucketLevel(calls, b, from), propagation)
		rows = append(rows, r)
	}
	return rows
}

// stepOf is the runbook step an event is about: the one its message names
// ("step 04-change: …"), else its Step (the run's position when it was
// written, which is past the step once the step completed).
func stepOf(e store.Event, ids map[string]int) int {
	if rest, ok := strings.CutPrefix(e.Message, "step "); ok {
		if id, _, ok := strings.Cut(rest, ":"); ok {
			if k, ok := ids[id]; ok {
				return k
			}
		}
	}
	return e.Step
}

// result is one apply of one plan.
type result struct {
	mode       string
	hosts      int
	zones      int
	state      string
	wall       time.Duration
	maxRSS     int64
	steps      []stepRow
	otherCalls int // Route 53 calls outside the change steps (observation, reads)
	err        error
}

// table renders results as markdown: one row per change step.
func table(results []result) string {
	var b strings.Builder
	b.WriteString("| rate limit | hostnames | zones | step | hosts changed | ChangeResourceRecordSets (refused) | minimum | GetChange | minimum | step s | floor s | step / floor | other Route 53 calls | apply s | apply peak RSS MB |\n")
	b.WriteString("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(&b, "| %s | %d | %d | **failed**: %s | | | | | | | | | | %.1f | %.0f |\n", r.mode, r.hosts, r.zones, oneLine(r.err.Error()), r.wall.Seconds(), float64(r.maxRSS)/(1<<20))
			continue
		}
		for i, s := range r.steps {
			apply, rss, other := "", "", ""
			if i == 0 {
				apply = fmt.Sprintf("%.1f", r.wall.Seconds())
				rss = fmt.Sprintf("%.0f", float64(r.maxRSS)/(1<<20))
				other = fmt.Sprint(r.otherCalls)
			}
			ratio := "-"
			if s.floor > 0 {
				ratio = fmt.Sprintf("%.2f", s.wall.Seconds()/s.floor.Seconds())
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %d %s | %d | %d (%d) | %d | %d | %d | %.1f | %.1f | %s | %s | %s | %s |\n",
				r.mode, r.hosts, r.zones, s.step+1, s.title, s.hosts, s.writes, s.throttled, s.minimum, s.getChanges, s.minimum,
				s.wall.Seconds(), s.floor.Seconds(), ratio, other, apply, rss)
		}
		if len(r.steps) == 0 {
			fmt.Fprintf(&b, "| %s | %d | %d | no change step ran (run %s) | | | | | | | | | %d | %.1f | %.0f |\n", r.mode, r.hosts, r.zones, r.state, r.otherCalls, r.wall.Seconds(), float64(r.maxRSS)/(1<<20))
		}
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
