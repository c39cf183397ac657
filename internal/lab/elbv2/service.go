package elbv2

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Defaults.
const (
	// DefaultHealthyAfter approximates an ALB's default health check
	// (interval 30 s, healthy threshold 5 would be 150 s; the lab keeps
	// the first check short so demos do not stall).
	DefaultHealthyAfter = 30 * time.Second
	// DefaultDeregistrationDelay is AWS's deregistration_delay default.
	DefaultDeregistrationDelay = 300 * time.Second
	// DefaultRegion is used when a request carries no signed region.
	DefaultRegion = "us-east-1"
)

// seedAge is how long ago seeded target groups and targets pretend to have
// been registered.
const seedAge = 24 * time.Hour

// Options configures the service.
type Options struct {
	// HealthyAfter is how long a newly registered target (or a target in a
	// group a load balancer just started using) stays initial before it
	// counts as healthy. Defaults to DefaultHealthyAfter.
	HealthyAfter time.Duration
	// DeregistrationDelay is how long a deregistered target drains.
	// Defaults to DefaultDeregistrationDelay.
	DeregistrationDelay time.Duration
}

// Service is the ELBv2 emulator. It is safe for concurrent use.
type Service struct {
	env  awsapi.Env
	opts Options

	mu        sync.Mutex
	seq       int64
	lbs       map[string]*loadBalancer
	tgs       map[string]*targetGroup
	listeners map[string]*listener
}

// New returns an ELBv2 service.
func New(env awsapi.Env, opts Options) *Service {
	if opts.HealthyAfter <= 0 {
		opts.HealthyAfter = DefaultHealthyAfter
	}
	if opts.DeregistrationDelay <= 0 {
		opts.DeregistrationDelay = DefaultDeregistrationDelay
	}
	return &Service{env: env, opts: opts, lbs: map[string]*loadBalancer{}, tgs: map[string]*targetGroup{}, listeners: map[string]*listener{}}
}

// LB is a load balancer as the rest of the lab sees it.
type LB struct {
	ARN                   string
	Name                  string
	DNSName               string
	CanonicalHostedZoneID string
	AccountID             string
	Region                string
	Scheme                string
	TargetGroups          []TargetGroup
}

// TargetGroup is a target group with its targets' current health.
type TargetGroup struct {
	ARN      string
	Name     string
	Protocol string
	Port     int
	Targets  []TargetState
}

// TargetState is one registered (or draining) target.
type TargetState struct {
	ID   string
	Port int
	Health
}

// Target names a target to register: an IP address (or instance id) and a
// port (zero: the group's port).
type Target struct {
	ID   string
	Port int
}

// CreateALB creates an internet-facing Application Load Balancer in account
// and region, as the seed's starting world (nothing is recorded in the
// history).
func (s *Service) CreateALB(account, name, region string) (LB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, _, err := s.createLBLocked(account, region, name, "internet-facing", nil)
	if err != nil {
		return LB{}, fmt.Errorf("creating load balancer %s: %w", name, err)
	}
	return s.viewLBLocked(lb, s.env.Clock.Now()), nil
}

// AddTargetGroup creates an HTTP target group of ip targets in the load
// balancer's account and region, puts it behind the load balancer (the
// default action of a new HTTP:80 listener if the load balancer has none,
// else a listener rule), and registers targets as already healthy: the
// seed describes a world that has been running for a while.
func (s *Service) AddTargetGroup(lbARN, name string, port int, targets []Target) (TargetGroup, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, ok := s.lbs[lbARN]
	if !ok {
		return TargetGroup{}, fmt.Errorf("adding target group %s: load balancer %s not found", name, lbARN)
	}
	tg, _, err := s.createTGLocked(lb.Account, lb.Region, tgSpec{Name: name, Protocol: "HTTP", Port: port, TargetType: "ip", HealthCheckPath: "/"})
	if err != nil {
		return TargetGroup{}, fmt.Errorf("adding target group %s: %w", name, err)
	}
	// Backdate well past any initial-check period (a restored snapshot may
	// run with a longer one) so the seeded targets are healthy at once.
	past := s.env.Clock.Now().Add(-seedAge)
	var specs []Target
	for _, t := range targets {
		specs = append(specs, Target{ID: t.ID, Port: t.Port})
	}
	if err := s.registerLocked(tg, specs, past); err != nil {
		delete(s.tgs, tg.ARN)
		return TargetGroup{}, fmt.Errorf("adding target group %s: %w", name, err)
	}
	hasListener := false
	for _, l := range s.listeners {
		hasListener = hasListener || l.LoadBalancer == lb.ARN
	}
	if hasListener {
		lb.RuleTargetGroups = append(lb.RuleTargetGroups, tg.ARN)
	} else {
		s.seq++
		l := &listener{Seq: s.seq, ARN: listenerARN(lb), LoadBalancer: lb.ARN, Protocol: "HTTP", Port: 80, TargetGroup: tg.ARN}
		s.listeners[l.ARN] = l
	}
	tg.InUseSince = past
	return s.viewTGLocked(tg, s.env.Clock.Now(), s.usersLocked()), nil
}

// SetTargetHealth records the health the data plane observed for every
// registration of targetID in the group. state and reason must be a pair
// AWS reports (see the DescribeTargetHealth table); "healthy" takes no
// reason. A change of state is recorded in the history as the load
// balancer service's own doing.
func (s *Service) SetTargetHealth(tgARN, targetID, state, reason string) error {
	desc, ok := reasons[state][reason]
	if !ok {
		return fmt.Errorf("setting health of %s in %s: %q/%q is not a target health state and reason AWS reports", targetID, tgARN, state, reason)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, exists := s.tgs[tgARN]
	if !exists {
		return fmt.Errorf("setting health of %s: target group %s not found", targetID, tgARN)
	}
	now := s.env.Clock.Now()
	users := s.usersLocked()
	found := false
	for _, t := range tg.Targets {
		if t.ID != targetID || !t.DeregisteredAt.IsZero() {
			continue
		}
		found = true
		before, _ := tg.health(t, now, len(users[tg.ARN]) > 0, s.opts.HealthyAfter, s.opts.DeregistrationDelay)
		h := Health{State: state, Reason: reason, Description: desc}
		t.Reported = &h
		after, _ := tg.health(t, now, len(users[tg.ARN]) > 0, s.opts.HealthyAfter, s.opts.DeregistrationDelay)
		if before.State != after.State {
			id := awsapi.Identity{AccountID: tg.Account, ARN: "elasticloadbalancing.amazonaws.com"}
			s.env.History.Record(id, "elbv2", "TargetHealthChange", fmt.Sprintf("%s/%s:%d", tg.ARN, t.ID, t.Port), before, after)
		}
	}
	if !found {
		return fmt.Errorf("setting health of %s: not registered in target group %s", targetID, tgARN)
	}
	return nil
}

// LoadBalancers returns every load balancer with its target groups and their
// targets' health now, sorted by creation.
func (s *Service) LoadBalancers() []LB {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Clock.Now()
	var out []LB
	for _, lb := range s.sortedLBsLocked() {
		out = append(out, s.viewLBLocked(lb, now))
	}
	return out
}

// ByDNSName finds a load balancer by its DNS name, ignoring case, a trailing
// dot and the "dualstack." prefix Route 53 alias records often carry.
func (s *Service) ByDNSName(name string) (LB, bool) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	name = strings.TrimPrefix(name, "dualstack.")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, lb := range s.lbs {
		if strings.ToLower(lb.DNSName) == name {
			return s.viewLBLocked(lb, s.env.Clock.Now()), true
		}
	}
	return LB{}, false
}

// CertificateUsers returns the ARNs of the listeners that serve
// certificateARN, for ACM's in-use check.
func (s *Service) CertificateUsers(certificateARN string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.listeners {
		for _, c := range l.CertificateARN {
			if c == certificateARN {
				out = append(out, l.ARN)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s *Service) viewLBLocked(lb *loadBalancer, now time.Time) LB {
	users := s.usersLocked()
	v := LB{ARN: lb.ARN, Name: lb.Name, DNSName: lb.DNSName, CanonicalHostedZoneID: lb.ZoneID, AccountID: lb.Account, Region: lb.Region, Scheme: lb.Scheme}
	for _, tg := range s.sortedTGsLocked() {
		for _, u := range users[tg.ARN] {
			if u == lb.ARN {
				v.TargetGroups = append(v.TargetGroups, s.viewTGLocked(tg, now, users))
				break
			}
		}
	}
	return v
}

func (s *Service) viewTGLocked(tg *targetGroup, now time.Time, users map[string][]string) TargetGroup {
	v := TargetGroup{ARN: tg.ARN, Name: tg.Name, Protocol: tg.Protocol, Port: tg.Port}
	for _, t := range tg.Targets {
		if h, ok := tg.health(t, now, len(users[tg.ARN]) > 0, s.opts.HealthyAfter, s.opts.DeregistrationDelay); ok {
			v.Targets = append(v.Targets, TargetState{ID: t.ID, Port: t.Port, Health: h})
		}
	}
	return v
}

// usersLocked maps each target group ARN to the load balancers forwarding
// to it, sorted.
func (s *Service) usersLocked() map[string][]string {
	set := map[string]map[string]bool{}
	add := func(tg, lb string) {
		if set[tg] == nil {
			set[tg] = map[string]bool{}
		}
		set[tg][lb] = true
	}
	for _, l := range s.listeners {
		if l.TargetGroup != "" {
			add(l.TargetGroup, l.LoadBalancer)
		}
	}
	for _, lb := range s.lbs {
		for _, tg := range lb.RuleTargetGroups {
			add(tg, lb.ARN)
		}
	}
	out := map[string][]string{}
	for tg, lbs := range set {
		for lb := range lbs {
			out[tg] = append(out[tg], lb)
		}
		sort.Strings(out[tg])
	}
	return out
}

func (s *Service) sortedLBsLocked() []*loadBalancer {
	out := make([]*loadBalancer, 0, len(s.lbs))
	for _, lb := range s.lbs {
		out = append(out, lb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

func (s *Service) sortedTGsLocked() []*targetGroup {
	out := make([]*targetGroup, 0, len(s.tgs))
	for _, tg := range s.tgs {
		out = append(out, tg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

func (s *Service) sortedListenersLocked() []*listener {
	out := make([]*listener, 0, len(s.listeners))
	for _, l := range s.listeners {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// pruneLocked forgets targets that have finished draining.
func (s *Service) pruneLocked(tg *targetGroup, now time.Time) {
	kept := tg.Targets[:0]
	for _, t := range tg.Targets {
		if t.DeregisteredAt.IsZero() || now.Before(t.DeregisteredAt.Add(s.opts.DeregistrationDelay)) {
			kept = append(kept, t)
		}
	}
	tg.Targets = kept
}

func (s *Service) createLBLocked(account, region, name, scheme string, subnets []string) (*loadBalancer, bool, error) {
	if err := checkLBName(name); err != nil {
		return nil, false, err
	}
	zone, ok := CanonicalZones[region]
	if !ok {
		return nil, false, validationError("The lab has no Application Load Balancer hosted zone for region '%s'", region)
	}
	switch scheme {
	case "":
		scheme = "internet-facing"
	case "internet-facing", "internal":
	default:
		return nil, false, validationError("1 validation error detected: Value '%s' at 'scheme' failed to satisfy constraint: Member must satisfy enum value set: [internet-facing, internal]", scheme)
	}
	for _, lb := range s.lbs {
		if lb.Account == account && lb.Region == region && lb.Name == name {
			// CreateLoadBalancer is idempotent for identical settings.
			if lb.Scheme == scheme {
				return lb, false, nil
			}
			return nil, false, awsapi.Errorf(http.StatusBadRequest, "DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
		}
	}
	dns := strings.ToLower(name) + "-" + randomDigits(10) + "." + region + ".elb.amazonaws.com"
	if scheme == "internal" {
		dns = "internal-" + dns
	}
	s.seq++
	lb := &loadBalancer{
		Seq: s.seq, ARN: lbARN(region, account, name), Name: name, Account: account, Region: region,
		DNSName: dns, ZoneID: zone, Scheme: scheme, VpcID: vpcFor(account), Subnets: append([]string(nil), subnets...),
		CreatedAt: s.env.Clock.Now().UTC(),
	}
	s.lbs[lb.ARN] = lb
	return lb, true, nil
}

type tgSpec struct {
	Name            string
	Protocol        string
	Port            int
	VpcID           string
	TargetType      string
	HealthCheckPath string
}

func (s *Service) createTGLocked(account, region string, spec tgSpec) (*targetGroup, bool, error) {
	if err := checkTGName(spec.Name); err != nil {
		return nil, false, err
	}
	if spec.TargetType == "" {
		spec.TargetType = "instance"
	}
	if spec.TargetType != "instance" && spec.TargetType != "ip" {
		return nil, false, validationError("The lab supports target types 'instance' and 'ip', not '%s'", spec.TargetType)
	}
	switch spec.Protocol {
	case "HTTP", "HTTPS":
	case "":
		return nil, false, validationError("A protocol must be specified")
	default:
		return nil, false, validationError("Protocol '%s' is not supported by Application Load Balancer target groups", spec.Protocol)
	}
	if spec.Port < 1 || spec.Port > 65535 {
		return nil, false, validationError("A port between 1 and 65535 must be specified")
	}
	if spec.HealthCheckPath == "" {
		spec.HealthCheckPath = "/"
	}
	if spec.VpcID == "" {
		spec.VpcID = vpcFor(account)
	}
	for _, tg := range s.tgs {
		if tg.Account == account && tg.Region == region && tg.Name == spec.Name {
			if tg.Protocol == spec.Protocol && tg.Port == spec.Port && tg.TargetType == spec.TargetType && tg.VpcID == spec.VpcID {
				return tg, false, nil
			}
			return nil, false, awsapi.Errorf(http.StatusBadRequest, "DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", spec.Name)
		}
	}
	s.seq++
	tg := &targetGroup{
		Seq: s.seq, ARN: tgARN(region, account, spec.Name), Name: spec.Name, Account: account, Region: region,
		Protocol: spec.Protocol, Port: spec.Port, VpcID: spec.VpcID, TargetType: spec.TargetType, HealthCheckPath: spec.HealthCheckPath,
	}
	s.tgs[tg.ARN] = tg
	return tg, true, nil
}

// registerLocked registers targets at time at. Registering a registered
// target is a no-op; registering a draining one brings it back.
func (s *Service) registerLocked(tg *targetGroup, targets []Target, at time.Time) error {
	if len(targets) == 0 {
		return nullError("targets")
	}
	for _, t := range targets {
		if err := checkTargetID(tg.TargetType, t.ID); err != nil {
			return err
		}
		if t.Port < 0 || t.Port > 65535 {
			return validationError("1 validation error detected: Value '%d' at 'targets.member.port' failed to satisfy constraint: Member must have value less than or equal to 65535", t.Port)
		}
	}
	s.pruneLocked(tg, at)
	for _, t := range targets {
		port := t.Port
		if port == 0 {
			port = tg.Port
		}
		var existing *target
		for _, have := range tg.Targets {
			if have.ID == t.ID && have.Port == port {
				existing = have
			}
		}
		switch {
		case existing == nil:
			tg.Targets = append(tg.Targets, &target{ID: t.ID, Port: port, RegisteredAt: at})
		case !existing.DeregisteredAt.IsZero():
			existing.DeregisteredAt, existing.RegisteredAt, existing.Reported = time.Time{}, at, nil
		}
	}
	return nil
}

type snapshot struct {
	Seq           int64           `json:"seq"`
	LoadBalancers []*loadBalancer `json:"load_balancers"`
	TargetGroups  []*targetGroup  `json:"target_groups"`
	Listeners     []*listener     `json:"listeners"`
}

// Snapshot returns every load balancer, target group and listener.
func (s *Service) Snapshot() (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(snapshot{Seq: s.seq, LoadBalancers: s.sortedLBsLocked(), TargetGroups: s.sortedTGsLocked(), Listeners: s.sortedListenersLocked()})
	if err != nil {
		return nil, fmt.Errorf("encoding elbv2 snapshot: %w", err)
	}
	return b, nil
}

// Restore replaces the whole state with a snapshot's.
func (s *Service) Restore(raw json.RawMessage) error {
	var snap snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return fmt.Errorf("decoding elbv2 snapshot: %w", err)
	}
	lbs, tgs, ls := map[string]*loadBalancer{}, map[string]*targetGroup{}, map[string]*listener{}
	for _, lb := range snap.LoadBalancers {
		if lb == nil || lb.ARN == "" {
			return fmt.Errorf("restoring elbv2 snapshot: load balancer without an ARN")
		}
		lbs[lb.ARN] = lb
		snap.Seq = max(snap.Seq, lb.Seq)
	}
	for _, tg := range snap.TargetGroups {
		if tg == nil || tg.ARN == "" {
			return fmt.Errorf("restoring elbv2 snapshot: target group without an ARN")
		}
		for _, t := range tg.Targets {
			if t == nil {
				return fmt.Errorf("restoring elbv2 snapshot: empty target in %s", tg.ARN)
			}
		}
		tgs[tg.ARN] = tg
		snap.Seq = max(snap.Seq, tg.Seq)
	}
	for _, l := range snap.Listeners {
		if l == nil || lbs[l.LoadBalancer] == nil {
			return fmt.Errorf("restoring elbv2 snapshot: listener of an unknown load balancer")
		}
		ls[l.ARN] = l
		snap.Seq = max(snap.Seq, l.Seq)
	}
	s.mu.Lock()
	s.lbs, s.tgs, s.listeners, s.seq = lbs, tgs, ls, snap.Seq
	s.mu.Unlock()
	return nil
}

// vpcFor names the one VPC each lab account has.
func vpcFor(account string) string {
	sum := 0
	for _, c := range account {
		sum = sum*31 + int(c)
	}
	return fmt.Sprintf("vpc-%08x", uint32(sum))
}
