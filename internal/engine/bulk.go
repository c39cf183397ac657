package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/pack"
	"github.com/cutover/cutover/internal/fanout"
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
// split across requests. It names the two of the hostname's states
// (runbook.HostStates) the change goes between, and the change's size,
// rather than keeping the change: at 50,000 hostnames the changes are most
// of the memory a step would hold. Requests are packed from the sizes, and
// each request's changes compiled anew (resolve) when it is sent.
type hostChange struct {
	host int
	zone string
	from int // the state it serves before the change
	to   int // the state it serves after, or toRollback
	size pack.GroupSize
}

// toRollback marks a rollback's change: its target is what Unwind leaves
// live from the state the hostname was found in.
const toRollback = -1

// resolve compiles the hostname's runbook again and returns the records it
// serves before and after the change, and the change itself.
func (w hostChange) resolve(rb *runbook.Runbook, exact bool) (before, after []dns.RecordSet, changes []dns.Change, err error) {
	hr, err := rb.HostRunbook(w.host)
	if err != nil {
		return nil, nil, nil, err
	}
	return w.ends(hr, runbook.HostStates(hr), exact)
}

func (w hostChange) ends(hr *runbook.Runbook, states [][]dns.RecordSet, exact bool) (before, after []dns.RecordSet, changes []dns.Change, err error) {
	before = states[w.from]
	switch {
	case w.to == toRollback:
		if after, err = rollbackTarget(hr, w.from, before, exact); err != nil {
			return nil, nil, nil, fmt.Errorf("hostname %s: %w", hr.Hostname, err)
		}
	case w.to == w.from+1 && hr.Steps[w.from].Change != nil:
		return before, states[w.to], hr.Steps[w.from].Change.Set.Changes, nil
	default:
		after = states[w.to]
	}
	return before, after, runbook.Diff(before, after), nil
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

// request is one ChangeResourceRecordSets request of a bulk change.
type request struct {
	zone, comment string
	members       []hostChange
	records       int
}

// build compiles the changes of the request's hostnames again and puts
// them in one change set.
func (r request) build(rb *runbook.Runbook, exact bool) (dns.ChangeSet, error) {
	cs := dns.ChangeSet{Zone: r.zone, Comment: r.comment}
	for _, m := range r.members {
		_, _, changes, err := m.resolve(rb, exact)
		if err != nil {
			return dns.ChangeSet{}, err
		}
		if rec, ch := pack.Size(changes); rec != m.size.Records || ch != m.size.Chars {
			return dns.ChangeSet{}, fmt.Errorf("hostname %s compiled to a change of %d records, %d characters, packed as %d, %d", rb.Bulk.Hosts[m.host].Name, rec, ch, m.size.Records, m.size.Chars)
		}
		cs.Changes = append(cs.Changes, changes...)
	}
	return cs, nil
}

// execBulkChange applies the change of the current step for every
// hostname still moving (or, rolling back, every hostname), packed per
// zone into as few requests as Route 53 takes. Zones go in parallel, and
// each sends its first request as soon as its own hostnames are compiled
// and packed, while the other zones are still at it.
func (e *Engine) execBulkChange(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	prog := loadBulk(*run)
	rolling := run.State == store.StateRollingBack
	// Interrupted between the intent and the outcome, the zones say which
	// hostnames already changed.
	interrupted := run.StepPhase == "applying"
	if !interrupted {
		run.StepPhase = "applying"
		hosts, zones := bulkFor(rb, prog, rolling)
		data := mustJSON(map[string]any{"step_id": s.ID, "hosts": hosts, "zones": zones, "weights": s.BulkChange.Weights})
		if err := e.commit(ctx, run, evData(store.EventBulkIntent, data, "step %s: %s: %d hostnames in %d zones", s.ID, s.Title, hosts, zones)); err != nil {
			return err
		}
	}
	if err := e.fence(ctx, run.Hostname); err != nil {
		return err
	}
	var out bulkOutcome
	reqs, results := e.bulkZones(ctx, rb, *run, s, prog, rolling, interrupted, &out)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := e.bulkResults(ctx, rb, s, reqs, results, prog.Exact, &out, true); err != nil {
		return err
	}
	return e.bulkDone(ctx, rb, run, s, prog, out, rolling)
}

// bulkFor counts the hostnames a bulk change step is for, and their zones:
// those not held back, or rolling back, all of them. (Some may have no
// change at this step; bulk.applied counts those that changed.)
func bulkFor(rb *runbook.Runbook, prog bulkProgress, rolling bool) (hosts, zones int) {
	held := prog.held()
	seen := map[string]bool{}
	for i, h := range rb.Bulk.Hosts {
		if _, ok := held[i]; ok && !rolling {
			continue
		}
		hosts++
		if !seen[h.Zone] {
			seen[h.Zone] = true
			zones++
		}
	}
	return hosts, zones
}

// zoneSpan is the hostnames of one zone: rb.Bulk.Hosts[lo:hi] (the hosts
// are sorted by zone).
type zoneSpan struct {
	zone   string
	lo, hi int
}

func zoneSpans(hosts []runbook.BulkHost) []zoneSpan {
	var out []zoneSpan
	for lo := 0; lo < len(hosts); {
		hi := lo
		for hi < len(hosts) && hosts[hi].Zone == hosts[lo].Zone {
			hi++
		}
		out = append(out, zoneSpan{zone: hosts[lo].Zone, lo: lo, hi: hi})
		lo = hi
	}
	return out
}

// bulkZones compiles, packs and sends the step's changes, each zone on its
// own goroutine. A zone whose hostnames cannot be worked out (its listing
// could not be read) holds them with the reason and the others go on. It
// returns every request with its result, zone by zone in runbook order;
// the hostnames held or found already changed are in out.
func (e *Engine) bulkZones(ctx context.Context, rb *runbook.Runbook, run store.Run, s runbook.Step, prog bulkProgress, rolling, reconcile bool, out *bulkOutcome) ([]request, []pack.Result) {
	spans := zoneSpans(rb.Bulk.Hosts)
	type zoneOut struct {
		reqs    []request
		results []pack.Result
		outcome bulkOutcome
	}
	outs := make([]zoneOut, len(spans))
	// Compiling is CPU work: as many zones at once as there are CPUs, in
	// runbook order, so that the first zones start sending after their own
	// compile rather than after everyone's.
	cpu := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, z := range spans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := &outs[i]
			reqs, err := e.planZone(ctx, rb, run, s, prog, rolling, reconcile, z, cpu, &o.outcome)
			if err != nil {
				o.outcome.held = append(o.outcome.held, zoneHeld(rb, run, s, prog, rolling, z, err)...)
				return
			}
			o.reqs = reqs
			o.results = e.sendRequests(ctx, rb, reqs, prog.Exact)
		}()
	}
	wg.Wait()
	var reqs []request
	var results []pack.Result
	for _, o := range outs {
		reqs = append(reqs, o.reqs...)
		results = append(results, o.results...)
		out.held = append(out.held, o.outcome.held...)
		out.reconciled += o.outcome.reconciled
	}
	return reqs, results
}

// planZone computes the change of each of the zone's hostnames for the
// current step and packs the zone's requests from their sizes, compiling
// while it holds one of cpu.
// Rolling back, it starts from what the zone serves now: a hostname
// serving any state its runbook passes through rolls back from there, one
// serving something else is held (in out). When reconcile is set,
// hostnames the zone already shows changed are counted in out and not
// sent again.
func (e *Engine) planZone(ctx context.Context, rb *runbook.Runbook, run store.Run, s runbook.Step, prog bulkProgress, rolling, reconcile bool, z zoneSpan, cpu chan struct{}, out *bulkOutcome) ([]request, error) {
	held := prog.held()
	hosts := rb.Bulk.Hosts
	var current map[string][]dns.RecordSet
	if rolling {
		var err error
		if current, err = e.zoneByName(ctx, z.zone); err != nil {
			return nil, fmt.Errorf("reading zone %s: %w", z.zone, err)
		}
	}
	cpu <- struct{}{}
	var work []hostChange
	for i := z.lo; i < z.hi; i++ {
		w, ok := stepChange(run, prog, held, rolling, i, z.zone)
		if !ok {
			continue
		}
		hr, err := rb.HostRunbook(i)
		if err != nil {
			out.held = append(out.held, hold(rb, s, w, err.Error()))
			continue
		}
		states := runbook.HostStates(hr)
		if rolling {
			served := managedOnly(current[dns.Fqdn(hosts[i].Name)], hosts[i].Name)
			k := servedState(states, served)
			if k < 0 {
				out.held = append(out.held, hold(rb, s, w, oneLine(&dns.ConflictError{Zone: z.zone, Expected: states[w.from], Actual: served})))
				continue
			}
			w.from = k
		}
		_, _, changes, err := w.ends(hr, states, prog.Exact)
		if err != nil {
			out.held = append(out.held, hold(rb, s, w, err.Error()))
			continue
		}
		if w.size.Records, w.size.Chars = pack.Size(changes); len(changes) > 0 {
			work = append(work, w)
		}
	}
	<-cpu
	if reconcile && len(work) > 0 {
		var err error
		if work, err = e.bulkReconcile(ctx, rb, s, work, prog.Exact, out); err != nil {
			return nil, fmt.Errorf("reading zone %s to reconcile an interrupted change: %w", z.zone, err)
		}
	}
	return packRequests(rb, s, work)
}

// stepChange is hostname i's part of the current bulk change before its
// zone is looked at: forward, from the run's step to the next; rolling
// back, from where it was (the run's position, or the step it is held at)
// to its rollback target. Not ok for a held hostname while going forward:
// it does not move with the others.
func stepChange(run store.Run, prog bulkProgress, held map[int]heldHost, rolling bool, i int, zone string) (hostChange, bool) {
	hh, isHeld := held[i]
	switch {
	case !rolling && isHeld:
		return hostChange{}, false
	case !rolling:
		return hostChange{host: i, zone: zone, from: run.Step, to: run.Step + 1}, true
	case isHeld:
		return hostChange{host: i, zone: zone, from: hh.Done, to: toRollback}, true
	default:
		return hostChange{host: i, zone: zone, from: prog.From, to: toRollback}, true
	}
}

// zoneHeld holds every hostname of z the step is for, with why the zone's
// part could not be worked out.
func zoneHeld(rb *runbook.Runbook, run store.Run, s runbook.Step, prog bulkProgress, rolling bool, z zoneSpan, err error) []heldHost {
	held := prog.held()
	var out []heldHost
	for i := z.lo; i < z.hi; i++ {
		if w, ok := stepChange(run, prog, held, rolling, i, z.zone); ok {
			out = append(out, hold(rb, s, w, oneLine(err)))
		}
	}
	return out
}

// sendRequests sends one zone's requests (or several zones', each zone's
// one at a time), each built just before it goes.
func (e *Engine) sendRequests(ctx context.Context, rb *runbook.Runbook, requests []request, exact bool) []pack.Result {
	reqs := make([]pack.Request, len(requests))
	for j, r := range requests {
		reqs[j] = pack.Request{Zone: r.zone, Build: func() (dns.ChangeSet, error) { return r.build(rb, exact) }}
	}
	return pack.SendRequests(ctx, e.o.Provider, reqs, 0)
}

// servedState is the last of states that cur equals, or -1.
func servedState(states [][]dns.RecordSet, cur []dns.RecordSet) int {
	for k := len(states) - 1; k >= 0; k-- {
		if sameSets(cur, states[k]) {
			return k
		}
	}
	return -1
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

// zoneByName reads a zone whole, its record sets by name.
func (e *Engine) zoneByName(ctx context.Context, zone string) (map[string][]dns.RecordSet, error) {
	all, err := e.zoneRecords(ctx, zone)
	if err != nil {
		return nil, err
	}
	out := map[string][]dns.RecordSet{}
	for _, r := range all {
		out[dns.Fqdn(r.Name)] = append(out[dns.Fqdn(r.Name)], r)
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

// bulkSend sends requests, zones in parallel, and sorts out what they did
// (bulkResults).
func (e *Engine) bulkSend(ctx context.Context, rb *runbook.Runbook, s runbook.Step, requests []request, exact bool, out *bulkOutcome, retry bool) error {
	results := e.sendRequests(ctx, rb, requests, exact)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return e.bulkResults(ctx, rb, s, requests, results, exact, out, retry)
}

// bulkResults records what requests did in out. A batch refused because a
// record changed under the run is looked at hostname by hostname: those
// already changed count as applied, those that still hold what the run
// expects go again (once, when retry is set), the others are held.
func (e *Engine) bulkResults(ctx context.Context, rb *runbook.Runbook, s runbook.Step, requests []request, results []pack.Result, exact bool, out *bulkOutcome, retry bool) error {
	var conflicted, refused []hostChange
	reasons := map[int]string{} // host → why its batch was refused
	for j, r := range results {
		req := requests[j]
		b := bulkBatch{Zone: req.zone, ChangeID: r.ChangeID, Records: req.records}
		for _, m := range req.members {
			b.Hosts = append(b.Hosts, rb.Bulk.Hosts[m.host].Name)
		}
		switch {
		case r.Err == nil:
			out.ids = append(out.ids, r.ChangeID)
			out.applied += len(req.members)
		case errors.Is(r.Err, dns.ErrConflict):
			b.Error = firstLine(r.Err.Error())
			conflicted = append(conflicted, req.members...)
		default:
			b.Error = firstLine(r.Err.Error())
			for _, m := range req.members {
				reasons[m.host] = fmt.Sprintf("zone %s refused the batch: %s", req.zone, b.Error)
			}
			refused = append(refused, req.members...)
		}
		out.batches = append(out.batches, b)
	}
	// A refused batch may still have been applied (a lost response): the
	// zone says which hostnames changed; the rest are held with the reason.
	if len(refused) > 0 {
		still, err := e.bulkReconcile(ctx, rb, s, refused, exact, out)
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
	again, err := e.bulkReconcile(ctx, rb, s, conflicted, exact, out)
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
	resend, err := packRequests(rb, s, again)
	if err != nil {
		return err
	}
	return e.bulkSend(ctx, rb, s, resend, exact, out, false)
}

// packRequests packs work (one or more zones' hostnames, each zone's
// together, in runbook order) into requests to Route 53's limits, from the
// sizes of their changes.
func packRequests(rb *runbook.Runbook, s runbook.Step, work []hostChange) ([]request, error) {
	var out []request
	for start := 0; start < len(work); {
		end := start
		for end < len(work) && work[end].zone == work[start].zone {
			end++
		}
		zone := work[start].zone
		sizes := make([]pack.GroupSize, 0, end-start)
		for _, w := range work[start:end] {
			sizes = append(sizes, w.size)
		}
		batches, err := pack.PackSizes(zone, sizes, pack.Route53)
		if err != nil {
			return nil, fmt.Errorf("step %s: packing zone %s: %w", s.ID, zone, err)
		}
		for n, b := range batches {
			r := request{zone: zone, comment: fmt.Sprintf("cutover %s: %s (%d/%d)", rb.Name, s.Title, n+1, len(batches)), records: b.Records}
			r.members = make([]hostChange, 0, len(b.Groups))
			for _, g := range b.Groups {
				r.members = append(r.members, work[start+g])
			}
			out = append(out, r)
		}
		start = end
	}
	return out, nil
}

// bulkReconcile reads each zone of work once and sorts its hostnames:
// already at their target (counted in out as reconciled), still at what
// the run expects (returned, to be sent), or changed by someone else
// (held).
func (e *Engine) bulkReconcile(ctx context.Context, rb *runbook.Runbook, s runbook.Step, work []hostChange, exact bool, out *bulkOutcome) ([]hostChange, error) {
	byZone := map[string]map[string][]dns.RecordSet{}
	var todo []hostChange
	for _, w := range work {
		name := rb.Bulk.Hosts[w.host].Name
		recs, ok := byZone[w.zone]
		if !ok {
			var err error
			if recs, err = e.zoneByName(ctx, w.zone); err != nil {
				return nil, err
			}
			byZone[w.zone] = recs
		}
		before, after, _, err := w.resolve(rb, exact)
		if err != nil {
			out.held = append(out.held, hold(rb, s, w, err.Error()))
			continue
		}
		current := managedOnly(recs[dns.Fqdn(name)], name)
		switch {
		case sameSets(current, after):
			out.reconciled++
		case sameSets(current, before):
			todo = append(todo, w)
		default:
			out.held = append(out.held, hold(rb, s, w, oneLine(&dns.ConflictError{Zone: w.zone, Expected: before, Actual: current})))
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
	return heldHost{Host: w.host, Name: h.Name, Zone: h.Zone, Done: w.from, Step: s.ID, Reason: reason}
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
	weights := s.BulkChange.Weights
	if rolling {
		// Every hostname rolled back serves its original records again.
		weights = &runbook.Weights{Old: 100}
	}
	data := mustJSON(map[string]any{"step_id": s.ID, "weights": weights, "batches": out.batches,
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
		w := hostChange{host: h.Host, zone: h.Zone, from: h.Done, to: len(rb.Steps)}
		_, _, changes, err := w.resolve(rb, false)
		if err != nil {
			return true, e.pause(ctx, run, store.EventChangeFailed, "catching up %s: %v", h.Name, err)
		}
		if w.size.Records, w.size.Chars = pack.Size(changes); len(changes) > 0 {
			work = append(work, w)
		}
	}
	sort.Slice(work, func(i, j int) bool { return work[i].host < work[j].host })
	step := runbook.Step{ID: "catch-up", Title: fmt.Sprintf("catch up %d held hostnames", len(work)), BulkChange: &runbook.BulkChange{Hosts: len(work)}}
	if err := e.fence(ctx, run.Hostname); err != nil {
		return true, err
	}
	requests, err := packRequests(rb, step, work)
	if err != nil {
		return true, e.pause(ctx, run, store.EventChangeFailed, "catching up: %v", err)
	}
	var out bulkOutcome
	if err := e.bulkSend(ctx, rb, step, requests, false, &out, true); err != nil {
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

// bulkVerifyWorkers is how many sampled hostnames a bulk Verify step
// checks at once.
const bulkVerifyWorkers = 8

// verify runs a Verify step: for a bulk runbook, on v.Hostnames of its
// hostnames spread evenly over the set (all of them when that is at least
// their number), passing only when every one checked passes. Hostnames
// held back are not checked: they are not expected to have moved.
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
	k := v.Hostnames
	if k <= 0 {
		k = runbook.DefaultVerifyHostnames
	}
	picks := sampleIndexes(len(moving), k)
	results := make([]VerifyResult, len(picks))
	fanout.Each(len(picks), bulkVerifyWorkers, func(j int) {
		h := rb.Bulk.Hosts[moving[picks[j]]]
		one := *rb
		one.Hostname, one.Zone, one.Original = h.Name, h.Zone, h.Original
		results[j] = e.o.Verifier.Verify(ctx, &one, v)
	})
	failed, passed := -1, 0
	for j, r := range results {
		if !r.OK && failed < 0 {
			failed = j
		}
		if r.OK {
			passed++
		}
	}
	if failed >= 0 {
		r := results[failed]
		h := rb.Bulk.Hosts[moving[picks[failed]]]
		r.Detail = fmt.Sprintf("%s: %s (%d of the %d checked of %d moving passed)", strings.TrimSuffix(h.Name, "."), r.Detail, passed, len(picks), len(moving))
		return r
	}
	if len(results) == 0 {
		return VerifyResult{OK: true, Detail: "no hostname is moving: nothing to verify"}
	}
	what := fmt.Sprintf("%d of %d hostnames", len(picks), len(moving))
	if len(picks) == len(moving) {
		what = fmt.Sprintf("all %d hostnames", len(moving))
	}
	res := results[len(results)-1]
	res.OK = true
	res.Detail = fmt.Sprintf("%s verified: %s", what, res.Detail)
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
