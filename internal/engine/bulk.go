package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/pack"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// keyBulk holds a bulk run's progress (bulkProgress).
const keyBulk = "bulk"

// phaseCatchUp marks a bulk run that reached its end with hostnames held:
// the next resume retries them.
const phaseCatchUp = "catch-up"

// bulkProgress is what a bulk run keeps besides its position: the
// hostnames that fell behind, and the changes the next InSync step waits
// for. Every hostname not held is at the run's position.
type bulkProgress struct {
	// Held are hostnames a failed batch kept back, at the step they had
	// reached; the others go on without them.
	Held []heldHost `json:"held,omitempty"`
	// Changes are the change ids of the latest bulk change.
	Changes []string `json:"changes,omitempty"`
	// Unknown says some changes were found applied after an interruption
	// and their change ids are lost.
	Unknown bool `json:"unknown,omitempty"`
	// From is, during a rollback, how many steps the hostnames not held
	// had done when it started; Exact is the rollback's exact flag.
	From  int  `json:"from,omitempty"`
	Exact bool `json:"exact,omitempty"`
}

// heldHost is a hostname kept back.
type heldHost struct {
	Host int    `json:"host"` // index into the runbook's Bulk.Hosts
	Name string `json:"name"`
	Zone string `json:"zone"`
	// Done is how many steps of its own runbook it has done: it serves
	// the records of runbook.HostStates(...)[Done].
	Done   int    `json:"done"`
	Step   string `json:"step"` // the step whose change it missed
	Reason string `json:"reason"`
}

func loadBulk(run store.Run) bulkProgress {
	var p bulkProgress
	if raw, ok := run.Data[keyBulk]; ok {
		_ = json.Unmarshal(raw, &p)
	}
	return p
}

func saveBulk(run *store.Run, p bulkProgress) {
	run.Data[keyBulk] = mustJSON(p)
}

func (p bulkProgress) held() map[int]heldHost {
	m := make(map[int]heldHost, len(p.Held))
	for _, h := range p.Held {
		m[h.Host] = h
	}
	return m
}

// hostChange is one hostname's part of a bulk change: atomic, so never
// split across requests.
type hostChange struct {
	host          int
	zone          string
	before, after []dns.RecordSet
	changes       []dns.Change
	done          int // steps done once the change is applied
}

// bulkBatch is one request as the event log records it.
type bulkBatch struct {
	Zone     string   `json:"zone"`
	ChangeID string   `json:"change_id,omitempty"`
	Hosts    []string `json:"hosts"`
	Records  int      `json:"records"`
	Error    string   `json:"error,omitempty"`
}

// bulkOutcome is what sending a bulk change did.
type bulkOutcome struct {
	batches    []bulkBatch
	ids        []string
	held       []heldHost
	applied    int
	reconciled int // found applied already (change id unknown)
}

// execBulkChange applies the change of the current step for every
// hostname still moving (or, rolling back, every hostname), packed per
// zone into as few requests as Route 53 takes, zones in parallel.
func (e *Engine) execBulkChange(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	prog := loadBulk(*run)
	rolling := run.State == store.StateRollingBack
	work, stuck, err := e.bulkWork(ctx, rb, *run, s, prog, rolling)
	if err != nil {
		return e.pause(ctx, run, store.EventChangeFailed, "step %s: %v", s.ID, err)
	}
	out := bulkOutcome{held: stuck}
	if run.StepPhase == "applying" {
		// Interrupted between the intent and the outcome: ask the zones
		// which hostnames already changed.
		work, err = e.bulkReconcile(ctx, rb, s, work, &out)
		if err != nil {
			return e.pause(ctx, run, store.EventChangeFailed, "step %s: reading the zones to reconcile an interrupted change: %v", s.ID, err)
		}
	} else {
		run.StepPhase = "applying"
		zones := map[string]bool{}
		for _, w := range work {
			zones[w.zone] = true
		}
		data := mustJSON(map[string]any{"step_id": s.ID, "hosts": len(work), "zones": len(zones), "weights": s.BulkChange.Weights})
		if err := e.commit(ctx, run, evData(store.EventBulkIntent, data, "step %s: %s: %d hostnames in %d zones", s.ID, s.Title, len(work), len(zones))); err != nil {
			return err
		}
	}
	if err := e.fence(ctx, run.Hostname); err != nil {
		return err
	}
	if err := e.bulkSend(ctx, rb, s, work, &out, true); err != nil {
		return err
	}
	return e.bulkDone(ctx, rb, run, s, prog, out, rolling)
}

// bulkWork computes every hostname's change for the current step. Rolling
// back, it starts from what each zone serves now (read once per zone): a
// hostname serving any state its runbook passes through rolls back from
// there, one serving something else is held.
func (e *Engine) bulkWork(ctx context.Context, rb *runbook.Runbook, run store.Run, s runbook.Step, prog bulkProgress, rolling bool) ([]hostChange, []heldHost, error) {
	held := prog.held()
	var current map[string][]dns.RecordSet
	if rolling {
		var err error
		if current, err = e.readZones(ctx, rb); err != nil {
			return nil, nil, err
		}
	}
	var work []hostChange
	var stuck []heldHost
	for i, h := range rb.Bulk.Hosts {
		hh, isHeld := held[i]
		if isHeld && !rolling {
			continue
		}
		hr, err := rb.HostRunbook(i)
		if err != nil {
			return nil, nil, err
		}
		states := runbook.HostStates(hr)
		w := hostChange{host: i, zone: h.Zone}
		if rolling {
			cur := managedOnly(current[dns.Fqdn(h.Name)], h.Name)
			done := -1
			for k := len(states) - 1; k >= 0; k-- {
				if sameSets(cur, states[k]) {
					done = k
					break
				}
			}
			if done < 0 {
				was := prog.From
				if isHeld {
					was = hh.Done
				}
				ce := &dns.ConflictError{Zone: h.Zone, Expected: states[was], Actual: cur}
				stuck = append(stuck, heldHost{Host: i, Name: h.Name, Zone: h.Zone, Done: was, Step: s.ID, Reason: strings.ReplaceAll(ce.Error(), "\n", " ")})
				continue
			}
			w.before = states[done]
			if w.after, err = rollbackTarget(hr, done, w.before, prog.Exact); err != nil {
				return nil, nil, fmt.Errorf("hostname %s: %w", h.Name, err)
			}
			w.changes = runbook.Diff(w.before, w.after)
			w.done = done + 1 // held at done if its rollback fails
		} else {
			k := run.Step
			w.before, w.after = states[k], states[k+1]
			w.changes = hr.Steps[k].Change.Set.Changes
			w.done = k + 1
		}
		if len(w.changes) > 0 {
			work = append(work, w)
		}
	}
	return work, stuck, nil
}

// readZones reads every zone of a bulk runbook once: record sets by name.
func (e *Engine) readZones(ctx context.Context, rb *runbook.Runbook) (map[string][]dns.RecordSet, error) {
	out := map[string][]dns.RecordSet{}
	seen := map[string]bool{}
	for _, h := range rb.Bulk.Hosts {
		if seen[h.Zone] {
			continue
		}
		seen[h.Zone] = true
		all, err := e.zoneRecords(ctx, h.Zone)
		if err != nil {
			return nil, err
		}
		for _, r := range all {
			out[dns.Fqdn(r.Name)] = append(out[dns.Fqdn(r.Name)], r)
		}
	}
	return out, nil
}

// rollbackTarget is what hostname's rollback from done steps leaves live.
func rollbackTarget(hr *runbook.Runbook, done int, live []dns.RecordSet, exact bool) ([]dns.RecordSet, error) {
	cur := live
	for _, st := range runbook.Unwind(hr, done, live, exact) {
		if st.Change == nil {
			continue
		}
		next, err := applyToLive(cur, st.Change.Set)
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// bulkSend packs work into requests and sends them. A batch refused
// because a record changed under the run is looked at hostname by
// hostname: those already changed count as applied, those that still hold
// what the run expects go again (once, when retry is set), the others are
// held.
func (e *Engine) bulkSend(ctx context.Context, rb *runbook.Runbook, s runbook.Step, work []hostChange, out *bulkOutcome, retry bool) error {
	sets, members, err := packWork(rb, s, work)
	if err != nil {
		return err
	}
	results := pack.Send(ctx, e.o.Provider, sets, 0)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var conflicted, refused []hostChange
	reasons := map[int]string{} // host → why its batch was refused
	for j, r := range results {
		b := bulkBatch{Zone: sets[j].Zone, ChangeID: r.ChangeID, Records: countRecords(sets[j])}
		for _, m := range members[j] {
			b.Hosts = append(b.Hosts, rb.Bulk.Hosts[m.host].Name)
		}
		switch {
		case r.Err == nil:
			out.ids = append(out.ids, r.ChangeID)
			out.applied += len(members[j])
		case errors.Is(r.Err, dns.ErrConflict):
			b.Error = firstLine(r.Err.Error())
			conflicted = append(conflicted, members[j]...)
		default:
			b.Error = firstLine(r.Err.Error())
			for _, m := range members[j] {
				reasons[m.host] = fmt.Sprintf("zone %s refused the batch: %s", sets[j].Zone, b.Error)
			}
			refused = append(refused, members[j]...)
		}
		out.batches = append(out.batches, b)
	}
	// A refused batch may still have been applied (a lost response): the
	// zone says which hostnames changed; the rest are held with the reason.
	if len(refused) > 0 {
		still, err := e.bulkReconcile(ctx, rb, s, refused, out)
		if err != nil {
			still = refused
		}
		for _, m := range still {
			out.held = append(out.held, hold(rb, s, m, reasons[m.host]))
		}
	}
	if len(conflicted) == 0 {
		return nil
	}
	again, err := e.bulkReconcile(ctx, rb, s, conflicted, out)
	if err != nil {
		for _, m := range conflicted {
			out.held = append(out.held, hold(rb, s, m, fmt.Sprintf("record changed outside cutover, and reading zone %s failed: %v", m.zone, err)))
		}
		return nil
	}
	if len(again) == 0 {
		return nil
	}
	if !retry {
		for _, m := range again {
			out.held = append(out.held, hold(rb, s, m, "its batch was refused twice for a conflict on another hostname"))
		}
		return nil
	}
	return e.bulkSend(ctx, rb, s, again, out, false)
}

// packWork builds one change set per request: each zone's hostnames in
// runbook order, packed to Route 53's limits.
func packWork(rb *runbook.Runbook, s runbook.Step, work []hostChange) ([]dns.ChangeSet, [][]hostChange, error) {
	var sets []dns.ChangeSet
	var members [][]hostChange
	for start := 0; start < len(work); {
		end := start
		for end < len(work) && work[end].zone == work[start].zone {
			end++
		}
		zone := work[start].zone
		groups := make([][]dns.Change, 0, end-start)
		for _, w := range work[start:end] {
			groups = append(groups, w.changes)
		}
		batches, err := pack.Pack(zone, groups, pack.Route53)
		if err != nil {
			return nil, nil, fmt.Errorf("step %s: packing zone %s: %w", s.ID, zone, err)
		}
		for n, b := range batches {
			cs := dns.ChangeSet{Zone: zone, Comment: fmt.Sprintf("cutover %s: %s (%d/%d)", rb.Name, s.Title, n+1, len(batches))}
			var m []hostChange
			for _, g := range b.Groups {
				cs.Changes = append(cs.Changes, groups[g]...)
				m = append(m, work[start+g])
			}
			sets = append(sets, cs)
			members = append(members, m)
		}
		start = end
	}
	return sets, members, nil
}

// bulkReconcile reads each zone of work once and sorts its hostnames:
// already at their target (counted in out as reconciled), still at what
// the run expects (returned, to be sent), or changed by someone else (held).
func (e *Engine) bulkReconcile(ctx context.Context, rb *runbook.Runbook, s runbook.Step, work []hostChange, out *bulkOutcome) ([]hostChange, error) {
	byZone := map[string]map[string][]dns.RecordSet{}
	var todo []hostChange
	for _, w := range work {
		name := rb.Bulk.Hosts[w.host].Name
		recs, ok := byZone[w.zone]
		if !ok {
			all, err := e.zoneRecords(ctx, w.zone)
			if err != nil {
				return nil, err
			}
			recs = map[string][]dns.RecordSet{}
			for _, r := range all {
				recs[dns.Fqdn(r.Name)] = append(recs[dns.Fqdn(r.Name)], r)
			}
			byZone[w.zone] = recs
		}
		current := managedOnly(recs[dns.Fqdn(name)], name)
		switch {
		case sameSets(current, w.after):
			out.reconciled++
		case sameSets(current, w.before):
			todo = append(todo, w)
		default:
			ce := &dns.ConflictError{Zone: w.zone, Expected: w.before, Actual: current}
			out.held = append(out.held, hold(rb, s, w, strings.ReplaceAll(ce.Error(), "\n", " ")))
		}
	}
	return todo, nil
}

// zoneRecords reads a zone whole: one listing for thousands of hostnames.
func (e *Engine) zoneRecords(ctx context.Context, zone string) ([]dns.RecordSet, error) {
	if l, ok := e.o.Provider.(interface {
		AllRecords(ctx context.Context, zone string) ([]dns.RecordSet, error)
	}); ok {
		return l.AllRecords(ctx, zone)
	}
	return nil, fmt.Errorf("provider cannot list zone %s", zone)
}

func hold(rb *runbook.Runbook, s runbook.Step, w hostChange, reason string) heldHost {
	h := rb.Bulk.Hosts[w.host]
	return heldHost{Host: w.host, Name: h.Name, Zone: h.Zone, Done: w.done - 1, Step: s.ID, Reason: reason}
}

// bulkDone records what a bulk change did and moves on.
func (e *Engine) bulkDone(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step, prog bulkProgress, out bulkOutcome, rolling bool) error {
	if rolling {
		// Hostnames that rolled back are no longer held; those that could
		// not stay held at the step they were at.
		prog.Held = out.held
	} else {
		prog.Held = append(prog.Held, out.held...)
	}
	prog.Changes = out.ids
	prog.Unknown = out.reconciled > 0
	saveBulk(run, prog)
	data := mustJSON(map[string]any{"step_id": s.ID, "weights": s.BulkChange.Weights, "batches": out.batches,
		"applied": out.applied, "reconciled": out.reconciled, "held": len(out.held)})
	events := []store.Event{evData(store.EventBulkApplied, data, "step %s: %s: %d hostnames changed in %d requests%s",
		s.ID, s.Title, out.applied, len(out.ids), reconciledNote(out.reconciled))}
	if len(out.held) > 0 {
		events = append(events, evData(store.EventBulkHeld, mustJSON(map[string]any{"step_id": s.ID, "hosts": out.held}),
			"step %s: %d hostnames held back: %s", s.ID, len(out.held), summarizeHeld(out.held)))
	}
	if !rolling && len(prog.Held) == len(rb.Bulk.Hosts) {
		if err := e.commit(ctx, run, events...); err != nil {
			return err
		}
		return e.pause(ctx, run, store.EventChangeFailed, "step %s: every hostname is held back: %s", s.ID, summarizeHeld(prog.Held))
	}
	if rolling && len(out.held) > 0 {
		if err := e.commit(ctx, run, events...); err != nil {
			return err
		}
		return e.pause(ctx, run, store.EventChangeFailed, "step %s: %d hostnames could not be rolled back: %s; fix them and resume", s.ID, len(out.held), summarizeHeld(out.held))
	}
	return e.advance(ctx, run, events...)
}

func reconciledNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d found already changed)", n)
}

// summarizeHeld says why hostnames are held, grouped by reason, in a line.
func summarizeHeld(held []heldHost) string {
	type group struct {
		reason string
		names  []string
	}
	var groups []*group
	byReason := map[string]*group{}
	for _, h := range held {
		g, ok := byReason[h.Reason]
		if !ok {
			g = &group{reason: h.Reason}
			byReason[h.Reason] = g
			groups = append(groups, g)
		}
		g.names = append(g.names, strings.TrimSuffix(h.Name, "."))
	}
	var parts []string
	for i, g := range groups {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more reasons", len(groups)-3))
			break
		}
		sample := g.names
		if len(sample) > 3 {
			sample = append(sample[:3:3], fmt.Sprintf("%d more", len(g.names)-3))
		}
		parts = append(parts, fmt.Sprintf("%d (%s): %s", len(g.names), strings.Join(sample, ", "), g.reason))
	}
	return strings.Join(parts, "; ")
}

func countRecords(cs dns.ChangeSet) int {
	n, _ := pack.Size(cs.Changes)
	return n
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// execBulkInSync waits until every change of the latest bulk change is
// INSYNC, polling the ones not yet there, oldest first.
func (e *Engine) execBulkInSync(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	key := e.timerKey(*run, s)
	deadline, err := e.deadline(ctx, run, key, s.InSync.Timeout.D())
	if err != nil {
		return err
	}
	prog := loadBulk(*run)
	checker, can := e.o.Provider.(dns.InSyncChecker)
	finish := func(format string, args ...any) error {
		delete(run.Timers, key)
		prog.Changes, prog.Unknown = nil, false
		saveBulk(run, prog)
		return e.advance(ctx, run, ev(store.EventChangeInSync, format, args...))
	}
	if !can {
		return finish("step %s: provider applies changes synchronously", s.ID)
	}
	if prog.Unknown {
		settle := e.o.Clock.Now().Add(e.o.UnknownChangeSettle)
		if err := e.sleepUntil(ctx, rb, run, settle, e.watching(rb, *run)); err != nil {
			return err
		}
	}
	start := e.o.Clock.Now()
	ids := prog.Changes
	total := len(ids)
	for {
		rest, err := pack.Remaining(ctx, checker, ids)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ids = rest
		if len(ids) == 0 {
			return finish("step %s: %d changes are INSYNC (%s)", s.ID, total, e.o.Clock.Now().Sub(start).Round(time.Millisecond))
		}
		if !e.o.Clock.Now().Before(deadline) {
			return e.pause(ctx, run, store.EventChangeTimeout, "step %s: %d of %d changes not INSYNC after %s (first %s; last error: %v)", s.ID, len(ids), total, s.InSync.Timeout.D(), ids[0], err)
		}
		next := e.o.Clock.Now().Add(e.o.Poll)
		if next.After(deadline) {
			next = deadline
		}
		if err := e.sleepUntil(ctx, rb, run, next, e.watching(rb, *run)); err != nil {
			return err
		}
	}
}

// bulkFinish runs when a bulk run reached its last step. With hostnames
// held it pauses once, saying which; the resume after that catches them up
// (one change each from where they are to where the others are) and waits
// for those changes, then the run is done.
func (e *Engine) bulkFinish(ctx context.Context, rb *runbook.Runbook, run *store.Run) (bool, error) {
	prog := loadBulk(*run)
	if len(prog.Held) == 0 {
		return false, nil
	}
	if run.StepPhase != phaseCatchUp {
		run.StepPhase = phaseCatchUp
		return true, e.pause(ctx, run, store.EventBulkHeld, "%d of %d hostnames are held back: %s; resume moves them straight to where the others are, rollback returns every hostname to its original records",
			len(prog.Held), len(rb.Bulk.Hosts), summarizeHeld(prog.Held))
	}
	var work []hostChange
	for _, h := range prog.Held {
		hr, err := rb.HostRunbook(h.Host)
		if err != nil {
			return true, e.pause(ctx, run, store.EventChangeFailed, "catching up %s: %v", h.Name, err)
		}
		states := runbook.HostStates(hr)
		w := hostChange{host: h.Host, zone: h.Zone, before: states[h.Done], after: states[len(states)-1], done: h.Done + 1}
		w.changes = runbook.Diff(w.before, w.after)
		work = append(work, w)
	}
	sort.Slice(work, func(i, j int) bool { return work[i].host < work[j].host })
	step := runbook.Step{ID: "catch-up", Title: fmt.Sprintf("catch up %d held hostnames", len(work)), BulkChange: &runbook.BulkChange{Hosts: len(work)}}
	if err := e.fence(ctx, run.Hostname); err != nil {
		return true, err
	}
	var out bulkOutcome
	if err := e.bulkSend(ctx, rb, step, work, &out, true); err != nil {
		return true, err
	}
	// The caught-up hostnames wait for their changes like any other.
	if checker, ok := e.o.Provider.(dns.InSyncChecker); ok {
		ids := out.ids
		deadline := e.o.Clock.Now().Add(10 * time.Minute)
		for len(ids) > 0 && e.o.Clock.Now().Before(deadline) {
			rest, _ := pack.Remaining(ctx, checker, ids)
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			if ids = rest; len(ids) > 0 {
				if err := e.o.Clock.Sleep(ctx, e.o.Poll); err != nil {
					return true, err
				}
			}
		}
	}
	prog.Held = out.held
	saveBulk(run, prog)
	data := mustJSON(map[string]any{"step_id": step.ID, "batches": out.batches, "applied": out.applied, "reconciled": out.reconciled, "held": len(out.held)})
	if err := e.commit(ctx, run, evData(store.EventBulkApplied, data, "%s: %d changed in %d requests%s", step.Title, out.applied, len(out.ids), reconciledNote(out.reconciled))); err != nil {
		return true, err
	}
	if len(out.held) > 0 {
		return true, e.pause(ctx, run, store.EventBulkHeld, "%d hostnames are still held back: %s", len(out.held), summarizeHeld(out.held))
	}
	run.StepPhase = ""
	return false, nil
}

// BulkStatus summarises where a bulk run's hostnames are: how many at the
// run's step, how many held and why. Nil for a one-hostname run.
type BulkStatus struct {
	Hosts int `json:"hosts"`
	Zones int `json:"zones"`
	// AtStep counts the hostnames moving with the run (at its position).
	AtStep int `json:"at_step"`
	// Held groups the hostnames kept back by the step they are at and why.
	Held []HeldGroup `json:"held,omitempty"`
}

// HeldGroup is hostnames held at one step for one reason.
type HeldGroup struct {
	Step   string   `json:"step"`
	Done   int      `json:"done"`
	Reason string   `json:"reason"`
	Count  int      `json:"count"`
	Zones  []string `json:"zones"`
	// Sample names up to five of them.
	Sample []string `json:"sample"`
}

// BulkSummary reads a bulk run's progress.
func BulkSummary(rb *runbook.Runbook, run store.Run) *BulkStatus {
	if !rb.IsBulk() {
		return nil
	}
	prog := loadBulk(run)
	zones := map[string]bool{}
	for _, h := range rb.Bulk.Hosts {
		zones[h.Zone] = true
	}
	st := &BulkStatus{Hosts: len(rb.Bulk.Hosts), Zones: len(zones), AtStep: len(rb.Bulk.Hosts) - len(prog.Held)}
	idx := map[string]*HeldGroup{}
	for _, h := range prog.Held {
		k := h.Step + "\x00" + h.Reason
		g, ok := idx[k]
		if !ok {
			g = &HeldGroup{Step: h.Step, Done: h.Done, Reason: h.Reason}
			idx[k] = g
			st.Held = append(st.Held, HeldGroup{})
		}
		g.Count++
		if !contains(g.Zones, h.Zone) {
			g.Zones = append(g.Zones, h.Zone)
		}
		if len(g.Sample) < 5 {
			g.Sample = append(g.Sample, strings.TrimSuffix(h.Name, "."))
		}
	}
	st.Held = st.Held[:0]
	for _, h := range prog.Held {
		k := h.Step + "\x00" + h.Reason
		if g, ok := idx[k]; ok {
			st.Held = append(st.Held, *g)
			delete(idx, k)
		}
	}
	return st
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// bulkVerifySample bounds how many hostnames a bulk run's Verify step
// fetches through: evenly spread over the set, first and last included.
const bulkVerifySample = 20

// verify runs a Verify step: for a bulk runbook, on a sample of its
// hostnames, passing only when every sampled hostname passes.
// Hostnames held back are not sampled: they are not expected to have moved.
func (e *Engine) verify(ctx context.Context, rb *runbook.Runbook, run store.Run, v runbook.Verify) VerifyResult {
	if !rb.IsBulk() {
		return e.o.Verifier.Verify(ctx, rb, v)
	}
	held := loadBulk(run).held()
	moving := make([]int, 0, len(rb.Bulk.Hosts))
	for i := range rb.Bulk.Hosts {
		if _, ok := held[i]; !ok {
			moving = append(moving, i)
		}
	}
	n := len(moving)
	picks := sampleIndexes(n, bulkVerifySample)
	var res VerifyResult
	passed := 0
	for _, p := range picks {
		h := rb.Bulk.Hosts[moving[p]]
		one := *rb
		one.Hostname, one.Zone, one.Original = h.Name, h.Zone, h.Original
		r := e.o.Verifier.Verify(ctx, &one, v)
		if !r.OK {
			r.Detail = fmt.Sprintf("%s: %s (%d of %d sampled hostnames passed before it)", strings.TrimSuffix(h.Name, "."), r.Detail, passed, len(picks))
			return r
		}
		passed++
		res = r
	}
	res.OK = true
	res.Detail = fmt.Sprintf("%d sampled hostnames of %d verified: %s", passed, n, res.Detail)
	return res
}

// sampleIndexes picks k of n indexes, evenly spread, first and last
// included.
func sampleIndexes(n, k int) []int {
	if n <= k {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, k)
	for j := 0; j < k; j++ {
		out = append(out, j*(n-1)/(k-1))
	}
	return out
}
