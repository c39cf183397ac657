package report

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/split"
	"github.com/cutover/cutover/internal/store"
)

// Report is everything an audit of one run needs, in the order a reader
// wants it.
type Report struct {
	Run     Summary  `json:"run"`
	Changes []Change `json:"changes"`
	// Staging lists the CloudFront continuous deployment operations of a
	// staging run (copy, policy, traffic, promote, abort). Each may be
	// several API writes, so they are listed apart from Changes.
	Staging   []Operation    `json:"staging_operations"`
	Timeline  []Entry        `json:"timeline"`
	Gates     []GateValue    `json:"gates"`
	Verify    []Verification `json:"verifications"`
	Operators []Action       `json:"operator_actions"`
	Split     []split.Point  `json:"split"`
	// SplitNote says why the observed split is missing, when it is.
	SplitNote string `json:"split_note,omitempty"`
}

// Summary describes the run.
type Summary struct {
	Name       string         `json:"name"`
	Hostname   string         `json:"hostname"`
	Zone       string         `json:"zone"`
	Strategy   string         `json:"strategy"`
	State      store.RunState `json:"state"`
	Reason     string         `json:"reason,omitempty"`
	PlanPath   string         `json:"plan_path,omitempty"`
	PlanDigest string         `json:"plan_digest,omitempty"`
	From       string         `json:"from,omitempty"`
	To         string         `json:"to,omitempty"`
	Created    time.Time      `json:"created"`
	Updated    time.Time      `json:"updated"`
	Steps      int            `json:"steps"`
	Events     int            `json:"events"`
}

// Providers a Change names.
const (
	ProviderRoute53    = "route53"
	ProviderCloudFront = "cloudfront"
)

// Change is one accepted write to a provider.
type Change struct {
	At time.Time `json:"at"`
	// Step is the id of the step that made it; Rollback marks a step of
	// the rollback runbook.
	Step     string `json:"step"`
	Rollback bool   `json:"rollback,omitempty"`
	Provider string `json:"provider"`
	// Operation is the API call: ChangeResourceRecordSets,
	// UpdateDistribution, AssociateAlias.
	Operation string `json:"operation"`
	// Resource is the hosted zone id or the distribution id.
	Resource string `json:"resource"`
	// ChangeID is Route 53's change id, or the distribution's ETag after
	// the change (CloudFront's version of a configuration). Empty when an
	// interruption lost it (Reconciled).
	ChangeID   string `json:"change_id"`
	Reconciled bool   `json:"reconciled,omitempty"`
	// Records before and after (Route 53): the record sets the change
	// replaced and the ones it created.
	BeforeRecords []dns.RecordSet `json:"before_records,omitempty"`
	AfterRecords  []dns.RecordSet `json:"after_records,omitempty"`
	// Hosts are the hostnames a bulk run's request carried, and Records
	// how many ResourceRecord elements it sent (Route 53 counts an UPSERT
	// twice toward its 1,000).
	Hosts   []string `json:"hosts,omitempty"`
	Records int      `json:"records,omitempty"`
	// Aliases before and after (CloudFront).
	BeforeAliases []string `json:"before_aliases,omitempty"`
	AfterAliases  []string `json:"after_aliases,omitempty"`
	// Before and After render the change for a human, one line each.
	Before []string `json:"before"`
	After  []string `json:"after"`
}

// Operation is one continuous deployment operation of a staging run.
type Operation struct {
	At      time.Time       `json:"at"`
	Step    string          `json:"step"`
	Type    store.EventType `json:"type"`
	Message string          `json:"message"`
}

// stagingOps are the events that record a continuous deployment write.
var stagingOps = map[store.EventType]bool{
	store.EventStagingCopied: true, store.EventStagingPolicy: true, store.EventStagingAttached: true,
	store.EventStagingTraffic: true, store.EventStagingPromoted: true, store.EventStagingDisabled: true,
	store.EventStagingAborted: true,
}

// Entry is one event of the timeline.
type Entry struct {
	At        time.Time       `json:"at"`
	Seq       int64           `json:"seq"`
	Step      int             `json:"step"` // 1-based; 0 for none
	StepTitle string          `json:"step_title,omitempty"`
	Rollback  bool            `json:"rollback,omitempty"`
	Type      store.EventType `json:"type"`
	Message   string          `json:"message"`
}

// GateValue is one gate measurement.
type GateValue struct {
	At     time.Time  `json:"at"`
	Gate   string     `json:"gate"`
	Kind   string     `json:"kind,omitempty"`
	Phase  gate.Phase `json:"phase"`
	Value  float64    `json:"value"`
	Detail string     `json:"detail,omitempty"`
}

// Verification is one verification attempt with its matrix.
type Verification struct {
	At     time.Time            `json:"at"`
	Step   string               `json:"step"`
	OK     bool                 `json:"ok"`
	Detail string               `json:"detail"`
	Shares map[string]float64   `json:"shares,omitempty"`
	Cells  []runbook.VerifyCell `json:"cells,omitempty"`
}

// Action is one operator request and what the engine did with it.
type Action struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	By     string    `json:"by"`
	// Outcome is the engine's event acting on it (paused, resumed,
	// rollback started, ignored), empty while pending.
	Outcome   string    `json:"outcome,omitempty"`
	OutcomeAt time.Time `json:"outcome_at,omitzero"`
}

// Build assembles the report of run from its events and split points
// (nil for none). It fails only when the run's runbook cannot be decoded.
func Build(run store.Run, rb *runbook.Runbook, events []store.Event, points []split.Point, splitNote string) (*Report, error) {
	if rb == nil {
		return nil, fmt.Errorf("report of run %s: no runbook", run.Name)
	}
	r := &Report{
		Run:       summary(run, rb, len(events)),
		Changes:   []Change{},
		Staging:   []Operation{},
		Timeline:  []Entry{},
		Gates:     []GateValue{},
		Verify:    []Verification{},
		Operators: []Action{},
		Split:     points,
		SplitNote: splitNote,
	}
	if r.Split == nil {
		r.Split = []split.Point{}
	}
	kinds := map[string]string{}
	for _, g := range rb.Gates {
		kinds[g.Name] = g.Kind
	}
	rollback := rollbackSteps(run)
	rollingBack := false
	var pendingOp []int // indexes of Operators not yet acted on
	for _, e := range events {
		if e.Type == store.EventRollbackStarted {
			rollingBack = true
		}
		steps := rb.Steps
		if rollingBack && e.Type != store.EventRollbackStarted {
			steps = rollback
		}
		step := stepOf(e)
		if e.Type == store.EventBulkApplied {
			// Committed with the move to the next step, or without it when
			// the run pauses there: the event names its step.
			if k := stepIndex(steps, e); k >= 0 {
				step = k
			}
		}
		entry := Entry{At: e.Time, Seq: e.Seq, Step: step + 1, Rollback: rollingBack && e.Type != store.EventRollbackStarted, Type: e.Type, Message: e.Message}
		if e.Type == store.EventRollbackStarted {
			// The switch to the rollback runbook belongs to no step.
			step, entry.Step = -1, 0
		}
		if step >= 0 && step < len(steps) {
			entry.StepTitle = steps[step].Title
		}
		r.Timeline = append(r.Timeline, entry)
		stepID := func() string {
			if step >= 0 && step < len(steps) {
				return steps[step].ID
			}
			return ""
		}
		if stagingOps[e.Type] {
			r.Staging = append(r.Staging, Operation{At: e.Time, Step: stepID(), Type: e.Type, Message: e.Message})
		}
		switch e.Type {
		case store.EventChangeApplied, store.EventChangeReconciled:
			if c, ok := recordChange(e, rb, stepID(), steps); ok {
				c.Rollback = entry.Rollback
				r.Changes = append(r.Changes, c)
			}
		case store.EventBulkApplied:
			for _, c := range bulkChanges(e, steps) {
				c.Rollback = entry.Rollback
				r.Changes = append(r.Changes, c)
			}
		case store.EventAliasesUpdated:
			if c, ok := aliasesChange(e, stepID()); ok {
				c.Rollback = entry.Rollback
				r.Changes = append(r.Changes, c)
			}
		case store.EventAssociateDone:
			for _, c := range associateChanges(e, stepID()) {
				c.Rollback = entry.Rollback
				r.Changes = append(r.Changes, c)
			}
		case store.EventGateMeasured:
			var m gate.Measurement
			if json.Unmarshal(e.Data, &m) == nil {
				at := m.At
				if at.IsZero() {
					at = e.Time
				}
				r.Gates = append(r.Gates, GateValue{At: at, Gate: m.Gate, Kind: kinds[m.Gate], Phase: m.Phase, Value: m.Value, Detail: m.Detail})
			}
		case store.EventVerifyPassed, store.EventVerifyFailed:
			var v runbook.VerifyResult
			if json.Unmarshal(e.Data, &v) == nil {
				r.Verify = append(r.Verify, Verification{At: e.Time, Step: stepID(), OK: v.OK, Detail: v.Detail, Shares: v.Shares, Cells: v.Cells})
			}
		case store.EventRequested:
			var d struct{ Action, By string }
			_ = json.Unmarshal(e.Data, &d)
			if d.Action == "" {
				d.Action = e.Message
			}
			if d.By == "" {
				d.By = "unknown"
			}
			r.Operators = append(r.Operators, Action{At: e.Time, Action: d.Action, By: d.By})
			pendingOp = append(pendingOp, len(r.Operators)-1)
		case store.EventRunPaused, store.EventRunResumed, store.EventRunPromoted, store.EventRequestIgnored, store.EventRollbackStarted:
			// The engine acts on the latest request; the ones it replaced
			// before acting were overwritten in the store.
			if len(pendingOp) > 0 && actsOnRequest(e) {
				for _, i := range pendingOp {
					r.Operators[i].Outcome, r.Operators[i].OutcomeAt = e.Message, e.Time
				}
				last := pendingOp[len(pendingOp)-1]
				for _, i := range pendingOp[:len(pendingOp)-1] {
					r.Operators[i].Outcome = "replaced by the later " + r.Operators[last].Action + " request"
				}
				pendingOp = nil
			}
		}
	}
	return r, nil
}

// completing are the events the engine commits together with moving to
// the next step: their Step is already the next one.
var completing = map[store.EventType]bool{
	store.EventChangeApplied: true, store.EventChangeReconciled: true, store.EventChangeInSync: true,
	store.EventWaitDone: true, store.EventVerifyPassed: true, store.EventDrainDone: true,
	store.EventAliasesUpdated: true, store.EventAssociateDone: true, store.EventAssociateSkipped: true,
	store.EventWatchSeen: true, store.EventStagingAttached: true, store.EventStagingTraffic: true,
	store.EventStagingPromoted: true, store.EventStagingAborted: true,
}

// stepOf is the index of the step an event belongs to.
func stepOf(e store.Event) int {
	if completing[e.Type] {
		return e.Step - 1
	}
	return e.Step
}

// stepIndex is the index in steps of the step an event's data names
// (step_id), or -1.
func stepIndex(steps []runbook.Step, e store.Event) int {
	var d struct {
		StepID string `json:"step_id"`
	}
	if json.Unmarshal(e.Data, &d) == nil {
		for i, s := range steps {
			if s.ID == d.StepID {
				return i
			}
		}
	}
	return -1
}

// actsOnRequest tells the engine's events that answer an operator request
// from the ones it emits on its own (a resume after a restart, a rollback
// on a gate breach).
func actsOnRequest(e store.Event) bool {
	switch e.Type {
	case store.EventRunPaused, store.EventRunPromoted, store.EventRequestIgnored:
		return true
	case store.EventRunResumed:
		return strings.Contains(e.Message, "by operator")
	case store.EventRollbackStarted:
		return strings.Contains(e.Message, "requested by operator")
	}
	return false
}

func summary(run store.Run, rb *runbook.Runbook, events int) Summary {
	s := Summary{
		Name: run.Name, Hostname: strings.TrimSuffix(rb.Hostname, "."), Zone: rb.Zone, Strategy: rb.Strategy,
		State: run.State, Reason: run.Reason, PlanPath: run.PlanPath, PlanDigest: run.PlanDigest,
		Created: run.CreatedAt, Updated: run.UpdatedAt, Steps: len(rb.Steps), Events: events,
	}
	if rb.IsBulk() {
		s.Hostname, s.Zone = rb.Subject(), rb.BulkZones()
	}
	if rb.From != nil {
		s.From = edgeName(*rb.From)
	}
	if rb.To != nil {
		s.To = edgeName(*rb.To)
	}
	return s
}

func edgeName(t runbook.Target) string {
	if t.DNSName != "" && t.DNSName != t.ID {
		return fmt.Sprintf("%s %s (%s)", t.Kind, t.ID, strings.TrimSuffix(t.DNSName, "."))
	}
	return fmt.Sprintf("%s %s", t.Kind, t.ID)
}

func rollbackSteps(run store.Run) []runbook.Step {
	var steps []runbook.Step
	if raw, ok := run.Data["rollback"]; ok {
		_ = json.Unmarshal(raw, &steps)
	}
	return steps
}

// recordChange reads a change.applied (or reconciled) event. Events from
// before they carried before/after fall back to the step's change set.
func recordChange(e store.Event, rb *runbook.Runbook, stepID string, steps []runbook.Step) (Change, bool) {
	var d struct {
		ChangeID string          `json:"change_id"`
		StepID   string          `json:"step_id"`
		Zone     string          `json:"zone"`
		Before   []dns.RecordSet `json:"before"`
		After    []dns.RecordSet `json:"after"`
	}
	if json.Unmarshal(e.Data, &d) != nil {
		return Change{}, false
	}
	if d.StepID != "" {
		stepID = d.StepID
	}
	if d.Before == nil && d.After == nil {
		for _, s := range steps {
			if s.ID == stepID && s.Change != nil {
				d.Zone = s.Change.Set.Zone
				for _, c := range s.Change.Set.Changes {
					if c.Old != nil {
						d.Before = append(d.Before, *c.Old)
					}
					if c.New != nil {
						d.After = append(d.After, *c.New)
					}
				}
			}
		}
	}
	if d.Zone == "" {
		d.Zone = rb.Zone
	}
	c := Change{
		At: e.Time, Step: stepID, Provider: ProviderRoute53, Operation: "ChangeResourceRecordSets", Resource: d.Zone,
		ChangeID: d.ChangeID, Reconciled: e.Type == store.EventChangeReconciled,
		BeforeRecords: d.Before, AfterRecords: d.After,
	}
	c.Before, c.After = recordLines(d.Before), recordLines(d.After)
	return c, true
}

// bulkChanges reads a bulk.applied event: one Change per request Route 53
// accepted (a refused one changed nothing; the event log says why), and
// one for the hostnames an interruption left applied without their change
// ids.
func bulkChanges(e store.Event, steps []runbook.Step) []Change {
	var d struct {
		StepID  string `json:"step_id"`
		Batches []struct {
			Zone     string   `json:"zone"`
			ChangeID string   `json:"change_id"`
			Hosts    []string `json:"hosts"`
			Records  int      `json:"records"`
			Error    string   `json:"error"`
		} `json:"batches"`
		Reconciled int `json:"reconciled"`
	}
	if json.Unmarshal(e.Data, &d) != nil {
		return nil
	}
	title := d.StepID
	if k := stepIndex(steps, e); k >= 0 {
		title = steps[k].Title
	}
	var out []Change
	for _, b := range d.Batches {
		if b.Error != "" || b.ChangeID == "" {
			continue
		}
		out = append(out, Change{
			At: e.Time, Step: d.StepID, Provider: ProviderRoute53, Operation: "ChangeResourceRecordSets", Resource: b.Zone,
			ChangeID: b.ChangeID, Hosts: b.Hosts, Records: b.Records,
			Before: []string{hostSample(b.Hosts)},
			After:  []string{fmt.Sprintf("%s: %d records in the request", title, b.Records)},
		})
	}
	if d.Reconciled > 0 {
		out = append(out, Change{
			At: e.Time, Step: d.StepID, Provider: ProviderRoute53, Operation: "ChangeResourceRecordSets", Reconciled: true,
			Before: []string{fmt.Sprintf("%d hostnames found already changed after an interruption", d.Reconciled)},
			After:  []string{title},
		})
	}
	return out
}

// hostSample names a request's hostnames: how many, and the first three.
func hostSample(hosts []string) string {
	names := make([]string, 0, 3)
	for _, h := range hosts {
		if len(names) == 3 {
			break
		}
		names = append(names, strings.TrimSuffix(h, "."))
	}
	s := fmt.Sprintf("%d hostnames: %s", len(hosts), strings.Join(names, ", "))
	if len(hosts) > 3 {
		s += fmt.Sprintf(" and %d more", len(hosts)-3)
	}
	return s
}

func recordLines(sets []dns.RecordSet) []string {
	sorted := append([]dns.RecordSet(nil), sets...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key() < sorted[j].Key() })
	out := []string{}
	for _, s := range sorted {
		out = append(out, s.String())
	}
	return out
}

func aliasesChange(e store.Event, stepID string) (Change, bool) {
	var d struct {
		cdn.Distribution
		Before *cdn.Distribution `json:"before"`
	}
	if json.Unmarshal(e.Data, &d) != nil || d.ID == "" {
		return Change{}, false
	}
	if d.Before != nil && d.Before.ETag == d.ETag {
		return Change{}, false // nothing to change: no call was made
	}
	c := Change{At: e.Time, Step: stepID, Provider: ProviderCloudFront, Operation: "UpdateDistribution", Resource: d.ID, ChangeID: d.ETag, AfterAliases: nonNil(d.Aliases)}
	if d.Before != nil {
		c.BeforeAliases = nonNil(d.Before.Aliases)
		c.Before = []string{aliasLine(*d.Before)}
	} else {
		c.Before = []string{"(not recorded)"}
	}
	c.After = []string{aliasLine(d.Distribution)}
	return c, true
}

func associateChanges(e store.Event, stepID string) []Change {
	var d struct {
		Changes []struct {
			Distribution string           `json:"distribution"`
			Before       cdn.Distribution `json:"before"`
			After        cdn.Distribution `json:"after"`
		} `json:"changes"`
	}
	if json.Unmarshal(e.Data, &d) != nil {
		return nil
	}
	var out []Change
	for _, x := range d.Changes {
		out = append(out, Change{
			At: e.Time, Step: stepID, Provider: ProviderCloudFront, Operation: "AssociateAlias", Resource: x.Distribution, ChangeID: x.After.ETag,
			BeforeAliases: nonNil(x.Before.Aliases), AfterAliases: nonNil(x.After.Aliases),
			Before: []string{aliasLine(x.Before)}, After: []string{aliasLine(x.After)},
		})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func aliasLine(d cdn.Distribution) string {
	a := strings.Join(d.Aliases, ", ")
	if a == "" {
		a = "no aliases"
	}
	return fmt.Sprintf("%s aliases: %s (ETag %s)", d.ID, a, d.ETag)
}
