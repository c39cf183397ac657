package iampolicy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/cutover/cutover/internal/awsconfig"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/gate/build"
	cwgate "github.com/cutover/cutover/internal/gate/cloudwatch"
	"github.com/cutover/cutover/internal/gate/drain"
	"github.com/cutover/cutover/internal/iam"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/preflight/awsread"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/verify"
)

// Options tune the policy.
type Options struct {
	// Account is the account of the credentials cutover runs with. It
	// fills the ARNs of distributions reached without a role; empty writes
	// "*" there (distribution ids are unique across accounts, so the grant
	// still names one distribution).
	Account string
}

// Policy is what one principal needs.
type Policy struct {
	// Principal is "" for the credentials cutover runs with, else the ARN
	// of a role it assumes.
	Principal string `json:"principal,omitempty"`
	// Account is the principal's account ("" when unknown).
	Account  string       `json:"account,omitempty"`
	Document iam.Document `json:"document"`
	// Uses say why each action is needed, one line per action and
	// resource, sorted.
	Uses []Use `json:"uses"`
}

// Use is one action on one resource and the parts of a run that need it.
type Use struct {
	Action   string   `json:"action"`
	Resource string   `json:"resource"`
	Why      []string `json:"why"`
}

// Result is the policies of a plan.
type Result struct {
	Plan string `json:"plan"`
	// Strategy is the strategy the runbook was compiled with (auto
	// resolved against the synthesized world).
	Strategy string   `json:"strategy"`
	Policies []Policy `json:"policies"`
	// Notes say what the policy assumes.
	Notes []string `json:"notes,omitempty"`
	// Unverified lists, per operation the policies serve, what its
	// permission entry has not checked against AWS's Service Authorization
	// Reference ([U] facts), sorted.
	Unverified []string `json:"unverified,omitempty"`
}

// Permissions is every operation cutover calls for a plan, from the
// adapters' tables.
var Permissions = iam.Merge(route53.Permissions, cloudfront.Permissions, edge.Permissions, verify.Permissions,
	cwgate.Permissions, drain.Permissions, awsconfig.Permissions, awsread.Permissions)

// collector gathers grants per principal.
type collector struct {
	// names are the records the run's changes touch, for the condition
	// on ChangeResourceRecordSets.
	names map[string]bool
	// bulkZones are the zones a bulk runbook's hostnames are in; with
	// them, changes are not restricted to record names (thousands of names
	// would exceed IAM's policy size).
	bulkZones  []string
	unverified map[string]bool
	p          *plan.Plan
	o          Options
	grants     map[string]*iam.Grants
	why        map[string]map[[2]string]map[string]bool // principal → (action, resource) → reasons
	err        error
}

// need records that principal calls operation on the resource id (a zone
// or distribution id, "*" for any of its type, a role ARN) for why.
func (c *collector) need(principal, operation, id, why string) {
	c.needIn(principal, operation, "", id, why)
}

// needIn is need for a resource of a regional service in region ("" for
// any region).
func (c *collector) needIn(principal, operation, region, id, why string) {
	perm, ok := Permissions.For(operation)
	if !ok {
		c.fail(fmt.Errorf("operation %s has no permission entry in any adapter's table", operation))
		return
	}
	if perm.Unverified != "" {
		c.unverified[operation+": "+perm.Unverified] = true
	}
	resource := iam.RegionalARN(perm.Resource, region, c.account(principal), id)
	if c.grants[principal] == nil {
		c.grants[principal] = iam.NewGrants()
		c.why[principal] = map[[2]string]map[string]bool{}
	}
	c.grants[principal].Add(resource, perm.Actions...)
	for _, a := range perm.Actions {
		k := [2]string{a, resource}
		if c.why[principal][k] == nil {
			c.why[principal][k] = map[string]bool{}
		}
		c.why[principal][k][why] = true
	}
}

// account is a principal's account: a role's from its ARN, the caller's
// from Options.
func (c *collector) account(principal string) string {
	if principal == "" {
		return c.o.Account
	}
	return iam.AccountOf(principal)
}

// ForPlan computes the policies p's run needs.
func ForPlan(p *plan.Plan, o Options) (*Result, error) {
	spec, err := runbook.SpecFromPlan(p, build.Spec)
	if err != nil {
		return nil, err
	}
	obs := synthesize(p, o)
	rb, err := runbook.Compile(spec, obs)
	if err != nil {
		return nil, fmt.Errorf("compiling %s against the world the plan describes: %w", p.Name, err)
	}
	c := &collector{p: p, o: o, grants: map[string]*iam.Grants{}, why: map[string]map[[2]string]map[string]bool{}, names: map[string]bool{}, unverified: map[string]bool{}}
	c.observe()
	c.preflight()
	c.runbook(rb)
	c.restrictRecords()
	c.gates()
	c.diagnosis()
	c.decommission()
	c.assumeRoles()
	if c.err != nil {
		return nil, c.err
	}
	res := &Result{Plan: p.Name, Strategy: rb.Strategy, Notes: notes(p, o, rb), Unverified: keys(c.unverified)}
	for _, principal := range c.principals() {
		pol := Policy{Principal: principal, Account: c.account(principal), Document: c.grants[principal].Document()}
		for k, reasons := range c.why[principal] {
			u := Use{Action: k[0], Resource: k[1]}
			for r := range reasons {
				u.Why = append(u.Why, r)
			}
			sort.Strings(u.Why)
			pol.Uses = append(pol.Uses, u)
		}
		sort.Slice(pol.Uses, func(i, j int) bool {
			if pol.Uses[i].Action != pol.Uses[j].Action {
				return pol.Uses[i].Action < pol.Uses[j].Action
			}
			return pol.Uses[i].Resource < pol.Uses[j].Resource
		})
		if n := sizeNote(pol); n != "" {
			res.Notes = append(res.Notes, n)
		}
		res.Policies = append(res.Policies, pol)
	}
	return res, nil
}

// MaxManagedPolicySize is IAM's quota on a customer managed policy: 6,144
// characters, whitespace not counted (IAM and STS quotas). Inline role
// policies may hold 10,240.
const MaxManagedPolicySize = 6144

// sizeNote warns when a document is too large to be a managed policy.
func sizeNote(pol Policy) string {
	b, err := json.Marshal(pol.Document)
	if err != nil || len(b) <= MaxManagedPolicySize {
		return ""
	}
	who := "the caller's policy"
	if pol.Principal != "" {
		who = "the policy of " + pol.Principal
	}
	return fmt.Sprintf("%s is %d characters, over IAM's %d for a managed policy: attach it inline (10240) or split it", who, len(b), MaxManagedPolicySize)
}

// principals are the caller first, then the roles, sorted.
func (c *collector) principals() []string {
	var roles []string
	for pr := range c.grants {
		if pr != "" {
			roles = append(roles, pr)
		}
	}
	sort.Strings(roles)
	if _, ok := c.grants[""]; ok {
		return append([]string{""}, roles...)
	}
	return roles
}

// observe is what `cutover plan` and the start of `apply` read (package
// observe): each edge, the records at the hostname, and who holds the
// hostname as a CloudFront alias.
func (c *collector) observe() {
	p := c.p
	for _, e := range []plan.Edge{p.From, p.To} {
		switch e.Kind {
		case plan.EdgeCloudFront:
			c.need(e.RoleARN, "GetDistribution", e.Value, "plan: resolve the "+side(p, e)+" edge")
		case plan.EdgeALB:
			c.need(e.RoleARN, "DescribeLoadBalancers", "*", "plan: resolve the "+side(p, e)+" edge")
		}
	}
	if c.route53Zone() {
		c.need(p.Zone.RoleARN, "ListResourceRecordSets", p.Zone.ID, "plan: read the records at "+p.Hostname)
		c.need(p.Zone.RoleARN, "GetHostedZone", p.Zone.ID, "plan: the zone's size and apex, for the safety brake")
	}
	if p.From.Kind != plan.EdgeCloudFront && p.To.Kind != plan.EdgeCloudFront {
		return
	}
	for _, e := range []plan.Edge{p.To, p.From} {
		if e.Kind == plan.EdgeCloudFront {
			c.need(c.distRole(e.Value), "GetDistribution", e.Value, "plan: read the aliases of the "+side(p, e)+" distribution")
		}
	}
	if p.To.Kind == plan.EdgeCloudFront {
		c.need(observe.CDNRole(p), "ListConflictingAliases", p.To.Value, "plan: find who holds "+p.Hostname+" when neither distribution does")
	}
}

// distRole is the role a run reaches distribution id with, as connect
// builds its CloudFront clients: the edge's own role, else the plan's
// CloudFront role.
func (c *collector) distRole(id string) string {
	for _, e := range []plan.Edge{c.p.From, c.p.To} {
		if e.Kind == plan.EdgeCloudFront && e.Value == id && e.RoleARN != "" {
			return e.RoleARN
		}
	}
	return observe.CDNRole(c.p)
}

func side(p *plan.Plan, e plan.Edge) string {
	if e.Kind == p.From.Kind && e.Value == p.From.Value {
		return "from"
	}
	return "to"
}

// runbook is what apply calls: every step forward, and every step of
// every rollback the run can unwind to.
func (c *collector) runbook(rb *runbook.Runbook) {
	if rb.IsBulk() {
		seen := map[string]bool{}
		for _, h := range rb.Bulk.Hosts {
			if !seen[h.Zone] {
				seen[h.Zone] = true
				c.bulkZones = append(c.bulkZones, h.Zone)
			}
		}
		for _, s := range rb.Steps {
			c.step(s, "apply")
		}
		for _, s := range runbook.UnwindBulk(rb) {
			c.step(s, "rollback")
		}
		return
	}
	for _, s := range rb.Steps {
		c.step(s, "apply")
	}
	live := rb.Original
	for done := 0; done <= len(rb.Steps); done++ {
		if done > 0 {
			if ch := rb.Steps[done-1].Change; ch != nil {
				live = applied(live, ch.Set)
			}
		}
		for _, s := range runbook.Unwind(rb, done, live, false) {
			c.step(s, "rollback")
		}
	}
}

// applied is live after cs, as the engine tracks it between steps.
func applied(live []dns.RecordSet, cs dns.ChangeSet) []dns.RecordSet {
	byKey := map[string]dns.RecordSet{}
	for _, r := range live {
		byKey[r.Key()] = r
	}
	for _, ch := range cs.Changes {
		if ch.Old != nil {
			delete(byKey, ch.Old.Key())
		}
		if ch.New != nil {
			byKey[ch.New.Key()] = *ch.New
		}
	}
	out := make([]dns.RecordSet, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// step mirrors the engine's switch: the calls each kind of step makes.
func (c *collector) step(s runbook.Step, phase string) {
	zoneRole, zone := c.p.Zone.RoleARN, c.p.Zone.ID
	what := phase + ": " + s.Kind()
	switch {
	case (s.Change != nil || s.InSync != nil || s.BulkChange != nil) && !c.route53Zone():
		// An RFC 2136 UPDATE signed with TSIG, and SOA serial queries.
	case s.Change != nil:
		c.need(zoneRole, "ChangeResourceRecordSets", zone, what)
		for _, ch := range s.Change.Set.Changes {
			for _, r := range []*dns.RecordSet{ch.Old, ch.New} {
				if r != nil {
					c.names[route53.NormalizedName(r.Name)] = true
				}
			}
		}
		c.need(zoneRole, "ListResourceRecordSets", zone, phase+": reconcile a change interrupted mid-call")
	case s.BulkChange != nil:
		zones := c.bulkZones
		if len(zones) == 0 {
			zones = []string{zone}
		}
		for _, z := range zones {
			c.need(zoneRole, "ChangeResourceRecordSets", z, what)
			c.need(zoneRole, "ListResourceRecordSets", z, phase+": read the zone whole to sort out a refused batch, and to roll back from what it serves")
		}
	case s.InSync != nil:
		c.need(zoneRole, "GetChange", "*", what)
	case s.Aliases != nil:
		d := s.Aliases.Distribution
		c.need(c.distRole(d), "GetDistributionConfig", d, what)
		c.need(c.distRole(d), "UpdateDistribution", d, what)
		c.need(c.distRole(d), "ListConflictingAliases", d, phase+": name the holder when CloudFront answers CNAMEAlreadyExists")
	case s.Associate != nil:
		d := s.Associate.Target
		c.need(c.distRole(d), "GetDistribution", d, what)
		c.need(c.distRole(d), "AssociateAlias", d, what)
	case s.WatchAlias != nil:
		c.need(c.distRole(s.WatchAlias.Target), "GetDistribution", s.WatchAlias.Target, what)
	case s.Deployed != nil:
		for _, d := range s.Deployed.Distributions {
			c.need(c.distRole(d), "GetDistribution", d, what)
		}
	case s.Staging != nil:
		c.staging(s.Staging, phase)
	case s.HealthCheck != nil:
		c.need(zoneRole, "GetHealthCheck", s.HealthCheck.ID, what)
		c.need(zoneRole, "UpdateHealthCheck", s.HealthCheck.ID, what)
	case s.Wait != nil, s.Observe != nil, s.Hold != nil, s.Verify != nil, s.Drain != nil, s.Approve != nil:
		// Timers, HTTP and DNS; their gates are c.gates.
	default:
		c.fail(fmt.Errorf("step %s (%s): no permissions are known for this kind of step", s.ID, s.Kind()))
	}
}

func (c *collector) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// staging is continuous deployment's calls. The staging distribution and
// the policy are created by the run, so their ids are unknown now: they
// are granted on every distribution and policy of the primary's account.
func (c *collector) staging(st *runbook.Staging, phase string) {
	role, primary := c.distRole(st.Primary), st.Primary
	what := phase + ": staging " + st.Op
	switch st.Op {
	case runbook.StagingCopy:
		c.need(role, "GetDistribution", primary, what)
		c.need(role, "CopyDistribution", primary, what)
		c.need(role, "GetDistribution", "*", what+" (the new staging distribution)")
	case runbook.StagingPolicy:
		c.need(role, "CreateContinuousDeploymentPolicy", "*", what)
		c.need(role, "GetDistribution", primary, what)
		c.need(role, "GetDistributionConfig", primary, what)
		c.need(role, "UpdateDistribution", primary, what)
		c.need(role, "GetDistribution", "*", what+" (the staging distribution)")
	case runbook.StagingTraffic:
		c.need(role, "GetContinuousDeploymentPolicy", "*", what)
		c.need(role, "UpdateContinuousDeploymentPolicy", "*", what)
	case runbook.StagingPromote:
		c.need(role, "GetDistribution", "*", what+" (primary and staging)")
		c.need(role, "UpdateDistributionWithStagingConfig", primary, what)
		c.need(role, "UpdateDistributionWithStagingConfig", "*", what+" (the staging distribution)")
		c.need(role, "GetContinuousDeploymentPolicy", "*", what)
		c.need(role, "UpdateContinuousDeploymentPolicy", "*", what)
	case runbook.StagingAbort:
		c.need(role, "GetDistributionConfig", primary, what)
		c.need(role, "UpdateDistribution", primary, what)
		c.need(role, "GetDistribution", primary, what)
		c.need(role, "GetContinuousDeploymentPolicy", "*", what)
		c.need(role, "DeleteContinuousDeploymentPolicy", "*", what)
		for _, op := range []string{"GetDistributionConfig", "UpdateDistribution", "GetDistribution", "DeleteDistribution"} {
			c.need(role, op, "*", what+" (disable and delete the staging distribution)")
		}
	default:
		c.fail(fmt.Errorf("staging operation %q: no permissions are known for it", st.Op))
	}
}

// restrictRecords narrows ChangeResourceRecordSets, which is granted on
// the whole zone, to the record names the runbook changes and the actions
// the provider sends: a leaked credential can then rewrite nothing else in
// the zone. Types are not restricted: the world the runbook is compiled
// against here guesses the record's type (an A alias or a CNAME), the real
// one may differ.
func (c *collector) restrictRecords() {
	g := c.grants[c.p.Zone.RoleARN]
	if g == nil || len(c.names) == 0 || len(c.bulkZones) > 0 {
		return
	}
	const action = "route53:ChangeResourceRecordSets"
	g.Restrict(action, route53.ConditionRecordNames, keys(c.names)...)
	g.Restrict(action, route53.ConditionRecordActions, route53.BatchActions...)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// gates are the metric reads of cloudwatch and drain gates, each with its
// own role.
func (c *collector) gates() {
	for _, g := range c.p.Gates {
		switch {
		case g.CloudWatch != nil:
			c.need(g.CloudWatch.RoleARN, "GetMetricData", "*", "gate "+g.Name)
		case g.Drain != nil && g.Drain.CloudWatch != nil:
			c.need(g.Drain.CloudWatch.RoleARN, "GetMetricData", "*", "drain gate "+g.Name)
		}
	}
}

// diagnosis is `cutover verify --distribution-new` explaining why clients
// reach the other distribution: read-only, with the plan's CloudFront role.
func (c *collector) diagnosis() {
	if c.p.To.Kind != plan.EdgeCloudFront {
		return
	}
	role := observe.CDNRole(c.p)
	c.need(role, "ListDistributions", "*", "verify: diagnose which distribution answers "+c.p.Hostname)
	c.need(role, "ListConflictingAliases", c.p.To.Value, "verify: diagnose which distribution answers "+c.p.Hostname)
}

// assumeRoles grants AssumeRole on every role the others need, hop by
// hop as awsconfig assumes them: a role without a role_chain by the
// caller; with one, the first role of the chain by the caller, each next
// one by the role before it, and the role itself by the chain's last.
func (c *collector) assumeRoles() {
	chains := map[string][]string{}
	for _, id := range []plan.Identity{c.p.Zone.Identity(), c.p.From.Identity, c.p.To.Identity} {
		if id.RoleARN != "" && len(id.RoleChain) > 0 {
			chains[id.RoleARN] = id.RoleChain
		}
	}
	for _, pr := range c.principals() {
		if pr == "" {
			continue
		}
		chain := chains[pr]
		if len(chain) == 0 {
			c.need("", "AssumeRole", pr, "assume the role its calls are made with")
			continue
		}
		prev := ""
		for i, hop := range append(append([]string(nil), chain...), pr) {
			why := fmt.Sprintf("hop %d of %d of the role chain to %s", i+1, len(chain)+1, pr)
			if hop == pr {
				why = fmt.Sprintf("assume the role its calls are made with, the last hop of its role chain (%d)", len(chain)+1)
			}
			c.need(prev, "AssumeRole", hop, why)
			prev = hop
		}
	}
}

// synthesize is the world a plan describes: the hostname served by the
// from edge, alone, and, for CloudFront, the alias on the from
// distribution.
func synthesize(p *plan.Plan, o Options) runbook.Observed {
	obs := runbook.Observed{From: target(p.From), To: target(p.To)}
	rec := dns.RecordSet{Name: dns.Fqdn(p.Hostname), Type: "CNAME", TTL: 300, Values: []string{dns.Fqdn(obs.From.DNSName)}}
	if obs.From.AliasZoneID != "" {
		rec = dns.RecordSet{Name: dns.Fqdn(p.Hostname), Type: "A", Alias: &dns.AliasTarget{ZoneID: obs.From.AliasZoneID, DNSName: dns.Fqdn(obs.From.DNSName)}}
	}
	obs.Records = []dns.RecordSet{rec}
	account := func(e plan.Edge) string {
		if e.RoleARN != "" {
			return iam.AccountOf(e.RoleARN)
		}
		return o.Account
	}
	if p.From.Kind == plan.EdgeCloudFront {
		obs.Holder = runbook.Holder{Distribution: p.From.Value, Account: account(p.From)}
	}
	if p.To.Kind == plan.EdgeCloudFront {
		obs.ToAccount = account(p.To)
		if p.Bridge != nil {
			obs.ToAliases = []string{p.Bridge.RewriteHost}
		}
	}
	return obs
}

func target(e plan.Edge) runbook.Target {
	switch e.Kind {
	case plan.EdgeCloudFront:
		return runbook.Target{Kind: runbook.TargetCloudFront, ID: e.Value, DNSName: strings.ToLower(e.Value) + ".cloudfront.net", AliasZoneID: route53.AliasZoneForCloudFront}
	case plan.EdgeALB:
		name := e.Value
		if strings.HasPrefix(name, "arn:") {
			name = "load-balancer.elb.amazonaws.com"
		}
		// Any region's zone: the alias zone changes no permission.
		zone, _ := route53.ALBZoneID("us-east-1")
		return runbook.Target{Kind: runbook.TargetALB, ID: e.Value, DNSName: name, AliasZoneID: zone}
	}
	return runbook.Target{Kind: runbook.TargetEndpoint, ID: e.Value, DNSName: e.Value}
}

// notes say what the policy assumes.
func notes(p *plan.Plan, o Options, rb *runbook.Runbook) []string {
	var out []string
	if p.Strategy == plan.StrategyAuto {
		out = append(out, fmt.Sprintf("strategy auto compiled as %s for a world where %s is served by the from edge; a different world may pick another strategy and need other actions", rb.Strategy, p.Hostname))
	}
	if o.Account == "" && (p.From.Kind == plan.EdgeCloudFront || p.To.Kind == plan.EdgeCloudFront) {
		out = append(out, "the account of the caller's credentials is not known (--account): its distribution ARNs name any account (*)")
	}
	if p.Zone.Provider == plan.ProviderRFC2136 {
		key := "no TSIG key"
		if p.Zone.TSIG != nil {
			key = "TSIG key " + p.Zone.TSIG.Name
		}
		out = append(out, fmt.Sprintf("zone %s is changed on %s with RFC 2136 updates signed with %s: no Route 53 permission; the server's update policy for that key is the zone's grant", p.Zone.Name, p.Zone.Server, key))
	} else if p.Strategy != plan.StrategyMaintenance {
		out = append(out, "the decommission checks read the records of every zone of the account, whose ids are known only at run time: route53:ListResourceRecordSets is granted on hostedzone/*, ChangeResourceRecordSets only on the plan's zone")
	}
	if p.Strategy == plan.StrategyStaging {
		out = append(out, "the staging distribution and its policy are created by the run: their actions are granted on every distribution and continuous deployment policy of the account")
	}
	return out
}
