package runbook

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

// Spec is the part of a plan the compiler needs, already defaulted and
// validated by package plan.
type Spec struct {
	Name       string
	Hostname   string
	Zone       string
	Strategy   string
	CutoverTTL int64
	// RestoreTTL is the TTL to put back at the end; 0 restores the TTL
	// observed before the run.
	RestoreTTL int64
	// Prepare is how long to wait after lowering the TTL; it is never
	// shorter than the old TTL.
	Prepare time.Duration
	Steps   []WeightStep
	Gates   []Gate
	Verify  *Verify
	Hold    time.Duration
	// InSyncTimeout bounds each wait for propagation.
	InSyncTimeout time.Duration
	// AliasMove and Bridge configure the CloudFront strategies.
	AliasMove AliasMoveSpec
	Bridge    *BridgeSpec
	Staging   *StagingSpec
	// Maintenance configures the maintenance strategy.
	Maintenance *MaintenanceSpec
	// Settle is how long edges get after an alias move is Deployed
	// (default DefaultSettle).
	Settle time.Duration
	// AliasTTL is the TTL resolvers get for alias records (default 60).
	AliasTTL int64
	// PlainDNS says the zone has no alias records and no weights (zone
	// provider rfc2136): every edge is reached by a CNAME to its DNS name.
	PlainDNS bool
	// Webhooks and Notify pass through to the runbook.
	Webhooks []Webhook
	Notify   []Notify
	// Hosts, when set, makes a bulk plan: every hostname they select
	// (resolved into Observed.Hosts) moves through the same steps.
	Hosts []HostSelector
	// Uniform gives every hostname of a bulk plan the same steps: a TTL
	// change and a TTL restore are kept (empty for a hostname that needs
	// none) when any hostname needs one.
	Uniform bool
}

// WeightStep is one traffic split: Weight percent to the new edge, kept for
// Pause while gates are evaluated.
type WeightStep struct {
	// Approve, when set, makes this a manual approval instead of a shift
	// (Weight and Pause are then unused).
	Approve *ApproveSpec
	Weight  int64
	Pause   time.Duration
	// Gates watched during Pause; nil means all of the runbook's gates.
	Gates []string
}

// ApproveSpec is a manual approval: wait for `cutover promote`, at most
// Timeout (0: no bound), then OnTimeout (rollback or pause).
type ApproveSpec struct {
	Timeout   time.Duration
	OnTimeout string
}

// TargetKind says what kind of edge a Target is. It decides which
// strategies apply (CloudFront steps need distributions) and whether alias
// records evaluate target health.
type TargetKind string

// The kinds of edge a Target can be.
const (
	// TargetCloudFront is a CloudFront distribution.
	TargetCloudFront TargetKind = "cloudfront"
	// TargetALB is an Application (or Network) Load Balancer; its alias
	// records evaluate target health.
	TargetALB TargetKind = "alb"
	// TargetEndpoint is any DNS name (a bridge included), reached through a
	// CNAME.
	TargetEndpoint TargetKind = "endpoint"
)

// Target is an edge as observed: the DNS name it answers on and, for edges
// that Route 53 can alias (CloudFront, load balancers), the alias zone id.
type Target struct {
	Kind        TargetKind `json:"kind"`
	ID          string     `json:"id"`
	DNSName     string     `json:"dns_name"`
	AliasZoneID string     `json:"alias_zone_id,omitempty"`
	// ARN of a distribution or load balancer, when observed: where its
	// request metrics are read from (a load balancer's dimension).
	ARN string `json:"arn,omitempty"`
}

// Observed is the state of the world the runbook is computed from.
type Observed struct {
	// Records are every record set at the hostname, as the provider serves
	// them.
	Records []dns.RecordSet
	From    Target
	To      Target
	// Holder is who holds the hostname as a CloudFront alias, when either
	// edge is CloudFront; ToAliases are the aliases the to distribution
	// carries.
	Holder    Holder
	ToAliases []string
	// ToAccount is the to distribution's account, when known.
	ToAccount string
	// Zone is the zone as its provider describes it (apex, size), for the
	// safety brake; zero when the provider cannot say.
	Zone dns.ZoneInfo
	// Hosts are the hostnames a bulk plan selected, with their records
	// (Records is then unused); ZoneSizes counts each of their zones'
	// record sets, for the safety brake.
	Hosts     []ObservedHost
	ZoneSizes map[string]int
}

// edgeOf keeps an observed edge in the runbook, or nil when none was
// observed.
func edgeOf(t Target) *Target {
	if t == (Target{}) {
		return nil
	}
	return &t
}

// AliasTTL is the TTL resolvers see for an alias record: Route 53 answers
// with the target's TTL, 60 s for CloudFront and load balancers
// (reference: AWS FAQ on alias records). Spec.AliasTTL overrides it for
// worlds that answer differently (the lab's demo).
const AliasTTL = 60

func (b *builder) aliasTTL() int64 {
	if b.spec.AliasTTL > 0 {
		return b.spec.AliasTTL
	}
	return AliasTTL
}

// Set identifiers cutover gives the two legs of a weighted move.
const (
	SetFrom = "cutover-from"
	SetTo   = "cutover-to"
)

// strategies maps a strategy name to its compiler. One explicit map, so the
// set of strategies is visible in one place.
var strategies = map[string]func(*builder) error{
	"flip":       compileFlip,
	"weighted":   compileWeighted,
	"alias-move": compileAliasMove,
	"bridge":     compileBridge,
	"staging":    compileStaging,
	// maintenance puts a page in front of the hostname; its off side is
	// CompileMaintenanceOff, compiled from the stored run, not a plan.
	"maintenance": compileMaintenance,
}

// plainDNSStrategies are those a zone without weights or aliases can run.
var plainDNSStrategies = map[string]bool{"flip": true, "staging": true}

// Strategies lists the strategies this build can compile, sorted.
func Strategies() []string {
	var out []string
	for k := range strategies {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ErrUnsupported is returned for strategies this build cannot compile yet.
var ErrUnsupported = errors.New("strategy not supported")

// Compile turns a spec and the observed world into a runbook. It is pure:
// no I/O, no clock, deterministic output.
func Compile(spec Spec, obs Observed) (*Runbook, error) {
	if len(spec.Hosts) > 0 {
		return compileBulk(spec, obs)
	}
	var notes []string
	if spec.Strategy == "auto" {
		chosen, why := chooseAuto(spec, obs)
		spec.Strategy = chosen
		notes = append(notes, fmt.Sprintf("strategy auto chose %s: %s", chosen, why))
	}
	if spec.PlainDNS && !plainDNSStrategies[spec.Strategy] {
		return nil, fmt.Errorf("compiling %s: strategy %s needs Route 53's weighted or alias records, and the zone is plain DNS (rfc2136), which has neither: use flip", spec.Name, spec.Strategy)
	}
	fn, ok := strategies[spec.Strategy]
	if !ok {
		return nil, fmt.Errorf("compiling %s: strategy %q: %w (this build supports %s)", spec.Name, spec.Strategy, ErrUnsupported, strings.Join(Strategies(), ", "))
	}
	b := &builder{spec: spec, obs: obs, host: dns.Fqdn(spec.Hostname), notes: notes}
	prepare := b.prepare
	if spec.Strategy == "maintenance" {
		prepare = b.prepareMaintenance
	}
	if err := prepare(); err != nil {
		return nil, fmt.Errorf("compiling %s: %w", spec.Name, err)
	}
	if err := fn(b); err != nil {
		return nil, fmt.Errorf("compiling %s: %w", spec.Name, err)
	}
	rb := &Runbook{
		Name:        spec.Name,
		Hostname:    b.host,
		Zone:        spec.Zone,
		Strategy:    spec.Strategy,
		Original:    b.original,
		Fingerprint: Fingerprint(b.original),
		CutoverTTL:  spec.CutoverTTL,
		AliasTTL:    b.aliasTTL(),
		Gates:       spec.Gates,
		Webhooks:    spec.Webhooks,
		Notify:      spec.Notify,
		Steps:       b.steps,
		Notes:       b.notes,
		From:        edgeOf(obs.From),
		To:          edgeOf(obs.To),
	}
	if err := rb.Validate(); err != nil {
		return nil, fmt.Errorf("compiling %s: %w", spec.Name, err)
	}
	return rb, nil
}

type builder struct {
	spec Spec
	obs  Observed
	host string

	original []dns.RecordSet // managed record sets as found
	live     []dns.RecordSet // what the zone holds after the steps so far
	types    []string        // record types the move manages (A, AAAA or CNAME)
	alias    bool            // legs are alias records
	oldTTL   int64           // what resolvers may have cached before the run
	steps    []Step
	notes    []string
	seq      int
}

func (b *builder) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

func (b *builder) add(s Step) {
	b.seq++
	if s.ID == "" {
		s.ID = fmt.Sprintf("%02d-%s", b.seq, s.Kind())
	}
	b.steps = append(b.steps, s)
}

// managed reports whether a record set is one the move takes over.
func managed(r dns.RecordSet) bool {
	return r.Type == "A" || r.Type == "AAAA" || r.Type == "CNAME"
}

// prepare reads the observed records, checks they point at the plan's from
// edge, and decides the record shape of the move.
func (b *builder) prepare() error {
	for _, r := range b.obs.Records {
		if dns.Fqdn(r.Name) == b.host && managed(r) {
			r.Name = b.host
			b.original = append(b.original, r)
		}
	}
	sort.Slice(b.original, func(i, j int) bool { return b.original[i].Key() < b.original[j].Key() })
	if len(b.original) == 0 {
		return fmt.Errorf("no A, AAAA or CNAME record at %s in zone %s: there is no traffic to move (create the record pointing at the from edge first)", b.host, b.spec.Zone)
	}
	for _, r := range b.original {
		if r.SetIdentifier != "" {
			return fmt.Errorf("%s already has routing-policy records (set %q): cutover starts from a simple record; finish or roll back the earlier move first", b.host, r.SetIdentifier)
		}
		if target := pointsAt(r); target != dns.Fqdn(b.obs.From.DNSName) {
			return fmt.Errorf("%s %s points at %s, not at the plan's from edge %s (%s)", b.host, r.Type, strings.TrimSuffix(target, "."), strings.TrimSuffix(dns.Fqdn(b.obs.From.DNSName), "."), b.obs.From.ID)
		}
	}
	b.live = cloneSets(b.original)
	// Alias records when both edges can be aliased — unless the hostname is
	// a CNAME today: keep the shape the zone's owner chose.
	b.alias = b.obs.From.AliasZoneID != "" && b.obs.To.AliasZoneID != "" && !hasType(b.original, "CNAME") && !b.spec.PlainDNS
	if b.alias {
		b.types = []string{"A"}
		for _, r := range b.original {
			if r.Type == "AAAA" {
				b.types = append(b.types, "AAAA")
			}
		}
	} else {
		b.types = []string{"CNAME"}
		if b.host == dns.Fqdn(b.spec.Zone) {
			if b.spec.PlainDNS {
				return fmt.Errorf("%s is the zone apex, where a CNAME is not allowed, and plain DNS has no alias records: move a name below the apex", b.host)
			}
			return fmt.Errorf("%s is the zone apex, where a CNAME is not allowed: both edges must be alias targets (cloudfront or alb)", b.host)
		}
	}
	b.oldTTL = 0
	for _, r := range b.original {
		ttl := r.TTL
		if r.Alias != nil {
			ttl = b.aliasTTL()
		}
		if ttl > b.oldTTL {
			b.oldTTL = ttl
		}
	}
	return nil
}

func pointsAt(r dns.RecordSet) string {
	if r.Alias != nil {
		return dns.Fqdn(r.Alias.DNSName)
	}
	if r.Type == "CNAME" && len(r.Values) == 1 {
		return dns.Fqdn(r.Values[0])
	}
	return strings.Join(r.Values, ",")
}

func cloneSets(in []dns.RecordSet) []dns.RecordSet {
	out := make([]dns.RecordSet, len(in))
	for i, r := range in {
		out[i] = r
		out[i].Values = append([]string(nil), r.Values...)
		if r.Weight != nil {
			w := *r.Weight
			out[i].Weight = &w
		}
		if r.Alias != nil {
			a := *r.Alias
			out[i].Alias = &a
		}
	}
	return out
}

// record builds the record set of type typ pointing at t. weight nil gives
// a simple record.
func (b *builder) record(typ string, t Target, setID string, weight *int64) dns.RecordSet {
	r := dns.RecordSet{Name: b.host, Type: typ, SetIdentifier: setID, Weight: weight}
	if b.alias {
		// CloudFront aliases must not evaluate target health; for load
		// balancers it lets Route 53 skip a leg with no healthy targets.
		r.Alias = &dns.AliasTarget{ZoneID: t.AliasZoneID, DNSName: dns.Fqdn(t.DNSName), EvaluateTargetHealth: t.Kind == TargetALB}
	} else {
		r.TTL = b.spec.CutoverTTL
		r.Values = []string{dns.Fqdn(t.DNSName)}
	}
	return r
}

// change appends a change from the live state to want, then the waits that
// make it real for clients: propagation, then one TTL.
func (b *builder) change(title string, want []dns.RecordSet, weights *Weights) {
	var cs dns.ChangeSet
	cs.Zone = b.spec.Zone
	cs.Comment = fmt.Sprintf("cutover %s: %s", b.spec.Name, title)
	// Deletes and replacements first, in key order, then creates: a batch
	// is checked in order, and a CNAME must leave before an A can arrive.
	cs.Changes = Diff(b.live, want)
	if len(cs.Changes) == 0 && !b.spec.Uniform {
		return
	}
	b.add(Step{Title: title, Change: &Change{Set: cs, Weights: weights}})
	b.add(Step{Title: "wait for the change to reach every DNS server", InSync: &InSync{Timeout: Duration(b.inSyncTimeout())}})
	b.live = cloneSets(want)
}

func (b *builder) inSyncTimeout() time.Duration {
	if b.spec.InSyncTimeout > 0 {
		return b.spec.InSyncTimeout
	}
	return 10 * time.Minute
}

// effectiveTTL is how long a resolver may keep the answer the live records
// give.
func (b *builder) effectiveTTL() int64 {
	if b.alias {
		return b.aliasTTL()
	}
	return b.spec.CutoverTTL
}

// ttlPrep lowers the TTL of the original records and waits out the old one.
func (b *builder) ttlPrep() {
	var lowered []dns.RecordSet
	changed := false
	for _, r := range b.live {
		if r.Alias == nil && r.TTL > b.spec.CutoverTTL {
			r.TTL = b.spec.CutoverTTL
			changed = true
		}
		lowered = append(lowered, r)
	}
	if !changed && !(b.spec.Uniform && b.spec.Prepare > 0) {
		if b.alias || b.oldTTL <= b.spec.CutoverTTL {
			b.note("no TTL preparation: %s", map[bool]string{true: "alias records carry the target's TTL (60s)", false: fmt.Sprintf("the TTL (%ds) is already at or below the cutover TTL (%ds)", b.oldTTL, b.spec.CutoverTTL)}[b.alias])
		}
		return
	}
	b.change(fmt.Sprintf("lower TTL %ds → %ds", b.oldTTL, b.spec.CutoverTTL), lowered, nil)
	wait := time.Duration(b.oldTTL) * time.Second
	reason := fmt.Sprintf("old TTL %ds: resolvers may hold the previous answer that long", b.oldTTL)
	if b.spec.Prepare > wait {
		wait = b.spec.Prepare
		reason = fmt.Sprintf("prepare %s (plan), at least the old TTL %ds", b.spec.Prepare, b.oldTTL)
	}
	b.add(Step{Title: "wait out the old TTL", Wait: &Wait{Duration: Duration(wait), Reason: reason}})
}

func (b *builder) waitTTL() {
	ttl := b.effectiveTTL()
	b.add(Step{Title: "wait one TTL so cached answers expire", Wait: &Wait{Duration: Duration(time.Duration(ttl) * time.Second), Reason: fmt.Sprintf("TTL %ds", ttl)}})
}

// KindDrain is the kind of drain gates: they are waited on by Drain
// steps, never evaluated as breach checks during observation.
const KindDrain = "drain"

// gateNames lists the gates watched while observing: all but drain gates.
func (b *builder) gateNames() []string {
	var out []string
	for _, g := range b.spec.Gates {
		if g.Kind != KindDrain {
			out = append(out, g.Name)
		}
	}
	return out
}

// drainGates lists the drain gates.
func (b *builder) drainGates() []string {
	var out []string
	for _, g := range b.spec.Gates {
		if g.Kind == KindDrain {
			out = append(out, g.Name)
		}
	}
	return out
}

// drain adds a wait for the old edge to go quiet, when the plan has drain
// gates.
func (b *builder) drain(title string) bool {
	gates := b.drainGates()
	if len(gates) == 0 {
		return false
	}
	b.add(Step{Title: title, Drain: &Drain{Gates: gates}})
	return true
}

func (b *builder) finish() {
	// Never call a cutover done on faith: the old edge must be quiet and
	// the new one must answer, before done and again before the hold ends.
	b.drain("wait for the old edge to drain")
	if v := b.spec.Verify; v != nil {
		vv := *v
		vv.Expect = "new"
		b.add(Step{Title: "verify the new edge serves the hostname", Verify: &vv})
	}
	if b.spec.Hold > 0 {
		b.add(Step{Title: "hold: keep the old edge alive, rollback one command away", Hold: &Hold{Duration: Duration(b.spec.Hold), Gates: b.gateNames()}})
		b.drain("before the hold ends: the old edge is still quiet")
	}
	restore := b.spec.RestoreTTL
	if restore == 0 {
		restore = b.oldTTL
	}
	if b.alias || (restore == b.spec.CutoverTTL && !(b.spec.Uniform && b.spec.Prepare > 0 && b.spec.RestoreTTL == 0)) {
		return
	}
	var want []dns.RecordSet
	for _, r := range b.live {
		r.TTL = restore
		want = append(want, r)
	}
	b.change(fmt.Sprintf("restore TTL %ds → %ds", b.spec.CutoverTTL, restore), want, nil)
}

func compileFlip(b *builder) error {
	if err := b.checkCloudFrontTarget(); err != nil {
		return err
	}
	b.ttlPrep()
	var want []dns.RecordSet
	for _, typ := range b.types {
		want = append(want, b.record(typ, b.obs.To, "", nil))
	}
	b.change(fmt.Sprintf("point %s at %s", strings.TrimSuffix(b.host, "."), b.obs.To.ID), want, &Weights{Old: 0, New: 100})
	b.waitTTL()
	pause := time.Duration(0)
	if len(b.spec.Steps) > 0 {
		pause = b.spec.Steps[len(b.spec.Steps)-1].Pause
	}
	if pause > 0 || len(b.spec.Gates) > 0 {
		if pause == 0 {
			pause = 5 * time.Minute
		}
		b.add(Step{Title: "observe the new edge", Observe: &Observe{Duration: Duration(pause), Gates: b.gateNames(), Weights: &Weights{Old: 0, New: 100}}})
	}
	b.finish()
	return nil
}

func compileWeighted(b *builder) error {
	if len(b.spec.Steps) == 0 {
		return errors.New("weighted needs at least one step")
	}
	if b.obs.From.Kind == TargetCloudFront && b.obs.To.Kind == TargetCloudFront {
		return fmt.Errorf("weighted records cannot split %s between two CloudFront distributions: the alternate domain name lives on one distribution only, and CloudFront routes by Host, not by DNS. Use strategy alias-move or bridge", b.hostNoDot())
	}
	if err := b.checkCloudFrontTarget(); err != nil {
		return err
	}
	b.ttlPrep()
	b.weightedPhase(b.obs.From, b.obs.To, b.spec.Steps, "")
	// Collapse the weighted pair into one simple record at the new edge.
	var want []dns.RecordSet
	for _, typ := range b.types {
		want = append(want, b.record(typ, b.obs.To, "", nil))
	}
	b.change(fmt.Sprintf("collapse to a simple record at %s", b.obs.To.ID), want, &Weights{Old: 0, New: 100})
	b.waitTTL()
	b.finish()
	return nil
}

// Estimate predicts the run's total duration, given how long a change takes
// to propagate, and the worst-case rollback time: detection (one gate
// interval plus its `for`) + propagation + the TTL clients may hold.
func (rb *Runbook) Estimate(insync time.Duration) (total, rollback time.Duration) {
	for _, s := range rb.Steps {
		switch {
		case s.InSync != nil:
			total += insync
		case s.Wait != nil:
			total += s.Wait.Duration.D()
		case s.Observe != nil:
			total += s.Observe.Duration.D()
		case s.Hold != nil:
			total += s.Hold.Duration.D()
		}
	}
	detect := time.Duration(0)
	for _, g := range rb.Gates {
		if g.Kind == KindDrain {
			continue // drain gates never trigger a rollback on a breach
		}
		if d := g.Interval.D() + g.For.D(); d > detect {
			detect = d
		}
	}
	ttl := time.Duration(rb.AliasTTL) * time.Second
	for _, r := range rb.Original {
		if r.Alias == nil {
			ttl = time.Duration(rb.CutoverTTL) * time.Second
		}
	}
	return total, detect + insync + ttl
}

func hasType(sets []dns.RecordSet, typ string) bool {
	for _, r := range sets {
		if r.Type == typ {
			return true
		}
	}
	return false
}
