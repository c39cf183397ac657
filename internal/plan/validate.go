package plan

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits the validator enforces, from Route 53 and CloudFront.
const (
	// MaxTTL is Route 53's largest TTL, 2^31-1 seconds.
	MaxTTL = 2147483647
	// MaxStagingWeight is CloudFront continuous deployment's largest share.
	MaxStagingWeight = 0.15
	// StagingHeaderPrefix starts every continuous deployment header name.
	StagingHeaderPrefix = "aws-cf-cd-"
	// typicalTTL is what most records carry; a shorter prepare wait earns a
	// warning.
	typicalTTL = 300 * time.Second
)

var (
	nameRE        = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	labelRE       = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$`)
	zoneIDRE      = regexp.MustCompile(`^[A-Z0-9]{1,32}$`)
	distIDRE      = regexp.MustCompile(`^[A-Z0-9]{6,32}$`)
	albARNRE      = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/(app|net)/[A-Za-z0-9-]+/[A-Za-z0-9]+$`)
	roleARNRE     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+$`)
	regionRE      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	metricIDRE    = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)
	statRE        = regexp.MustCompile(`^(Sum|Average|Minimum|Maximum|SampleCount|IQM|(p|tm|tc|ts|wm|pr)(100|[0-9]{1,2}(\.[0-9]{1,2})?))$`)
	headerTokenRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	envNameRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	externalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

// TSIGAlgorithms lists the accepted TSIG algorithms.
var TSIGAlgorithms = []string{"hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"}

// Comparisons lists the accepted gate comparisons: what counts as a breach.
var Comparisons = []string{">", ">=", "<", "<="}

// AliasMoveModes lists the accepted alias_move modes.
var AliasMoveModes = []string{"associate", "wait-for-swap"}

// Validate checks a plan built in code (Parse already validates what it
// returns). Diagnostics carry positions only for plans that came from Parse.
func Validate(p *Plan) Diagnostics {
	v := &validator{p: p}
	v.run()
	v.diags.Sort()
	return v.diags
}

// validator checks the rules that span fields, after defaults.
type validator struct {
	p      *Plan
	failed map[any]bool
	diags  Diagnostics
}

// add reports a problem with the field at ptr. A field whose decoding already
// failed gets no second complaint. The position is the field's own when the
// file set it, else the enclosing block's.
func (v *validator) add(sev Severity, ptr any, fallback Pos, format string, args ...any) {
	if ptr != nil && v.failed[ptr] {
		return
	}
	pos, ok := v.p.positions[ptr]
	if !ok {
		pos = fallback
	}
	if pos.IsZero() {
		pos = v.p.Pos
	}
	if pos.IsZero() && v.p.file != "" {
		pos = Pos{File: v.p.file, Line: 1, Col: 1}
	}
	v.diags = append(v.diags, Diagnostic{Pos: pos, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) errf(ptr any, fallback Pos, format string, args ...any) {
	v.add(SeverityError, ptr, fallback, format, args...)
}

func (v *validator) warnf(ptr any, fallback Pos, format string, args ...any) {
	v.add(SeverityWarning, ptr, fallback, format, args...)
}

// broken reports whether decoding ptr failed.
func (v *validator) broken(ptr any) bool { return v.failed[ptr] }

func (v *validator) run() {
	p := v.p
	v.normalize()
	if p.APIVersion != APIVersion {
		v.errf(&p.APIVersion, p.Pos, "`apiVersion` must be %q, got %q", APIVersion, p.APIVersion)
	}
	if p.Kind != Kind {
		v.errf(&p.Kind, p.Pos, "`kind` must be %q, got %q", Kind, p.Kind)
	}
	if p.Name != "" || p.has(&p.Name) {
		if !nameRE.MatchString(p.Name) {
			v.errf(&p.Name, p.Pos, "`name` must be 1-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit, got %q", p.Name)
		}
	}
	if p.Hostname != "" || p.has(&p.Hostname) {
		if msg := checkHostname(p.Hostname); msg != "" {
			v.errf(&p.Hostname, p.Pos, "`hostname` %s", msg)
		}
	}
	v.zone()
	v.hostnames()
	v.edges()
	v.sameRoleSameWay()
	v.strategy()
	v.ttl()
	gates := v.gates()
	if p.Strategy.usesSteps() || p.has(&p.Steps) {
		v.steps(p.Steps, &p.Steps, "steps", p.Pos, gates)
	}
	v.verify()
	if p.Hold < 0 {
		v.errf(&p.Hold, p.Pos, "`hold` must not be negative, got %s", p.Hold)
	}
	v.webhooks()
	v.notify()
	if b := &p.Brake; b.MaxShare <= 0 || b.MaxShare > 1 {
		v.errf(&b.MaxShare, b.Pos, "`brake.max_share` must be a share of the zone between 0 (exclusive) and 1, got %g", b.MaxShare)
	}
	if b := &p.Brake; b.MinRecordSets < 0 {
		v.errf(&b.MinRecordSets, b.Pos, "`brake.min_record_sets` must not be negative, got %d", b.MinRecordSets)
	}
	v.aliasMove()
	v.bridge(gates)
	v.staging(gates)
	v.maintenance()
}

// healthCheckIDRE is a Route 53 health check id: a UUID.
var healthCheckIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (v *validator) maintenance() {
	m := v.p.Maintenance
	if m == nil {
		return
	}
	if !contains(MaintenanceModes, m.Mode) {
		msg := fmt.Sprintf("`maintenance.mode` must be weight or failover, got %q", m.Mode)
		if s := suggest(m.Mode, MaintenanceModes); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		v.errf(&m.Mode, m.Pos, "%s", msg)
		return
	}
	switch {
	case m.Mode == MaintenanceFailover && m.HealthCheck == "":
		v.errf(&m.Mode, m.Pos, "`maintenance.mode` failover needs `maintenance.health_check`: the Route 53 health check of the live record (the PRIMARY); the page answers while it fails")
	case m.Mode == MaintenanceWeight && m.InvertHealthCheck:
		v.errf(&m.InvertHealthCheck, m.Pos, "`maintenance.invert_health_check` is used only by mode failover; mode weight needs no health check")
	case m.Mode == MaintenanceWeight && m.HealthCheck != "":
		v.errf(&m.HealthCheck, m.Pos, "`maintenance.health_check` is used only by mode failover; mode weight sends every client to the page without one")
	case m.HealthCheck != "" && !healthCheckIDRE.MatchString(m.HealthCheck):
		v.errf(&m.HealthCheck, m.Pos, "`maintenance.health_check` must be a Route 53 health check id like 0e1d5f3c-6a7b-4c8d-9e0f-123456789abc, got %q", m.HealthCheck)
	}
}

// normalize puts names in the form the rest of the tool compares: no
// trailing dots, zone ids without /hostedzone/, DNS names lower-case.
func (v *validator) normalize() {
	p := v.p
	p.Hostname = strings.TrimSuffix(p.Hostname, ".")
	p.Zone.Name = strings.TrimSuffix(strings.ToLower(p.Zone.Name), ".")
	p.Zone.ID = bareZoneID(p.Zone.ID)
	for i := range p.Hostnames {
		h := &p.Hostnames[i]
		h.Zone = bareZoneID(h.Zone)
		h.Match = strings.TrimSuffix(h.Match, ".")
		for j := range h.Names {
			h.Names[j] = strings.TrimSuffix(h.Names[j], ".")
		}
	}
	if t := p.Zone.TSIG; t != nil {
		t.Algorithm = strings.TrimSuffix(strings.ToLower(t.Algorithm), ".")
		if t.SecretFile != "" && !filepath.IsAbs(t.SecretFile) && p.file != "" {
			// A run resumed from another directory reads the same file.
			if abs, err := filepath.Abs(filepath.Join(filepath.Dir(p.file), t.SecretFile)); err == nil {
				t.SecretFile = abs
			}
		}
	}
	for _, e := range []*Edge{&p.From, &p.To} {
		if e.Kind == EdgeEndpoint || (e.Kind == EdgeALB && !strings.HasPrefix(e.Value, "arn:")) {
			e.Value = strings.TrimSuffix(strings.ToLower(e.Value), ".")
		}
	}
	if b := p.Bridge; b != nil {
		b.Endpoint = strings.TrimSuffix(strings.ToLower(b.Endpoint), ".")
		b.RewriteHost = strings.TrimSuffix(b.RewriteHost, ".")
	}
	if vf := p.Verify; vf != nil {
		for i, r := range vf.Resolvers {
			if _, _, err := net.SplitHostPort(r); err != nil && net.ParseIP(r) != nil {
				vf.Resolvers[i] = net.JoinHostPort(r, "53")
			}
		}
	}
}

// checkHostname returns what is wrong with a DNS name, or "".
func checkHostname(h string) string {
	switch {
	case h == "":
		return "must not be empty"
	case strings.Contains(h, "*"):
		return fmt.Sprintf("must name one host; wildcards are not supported, got %q", h)
	case strings.ToLower(h) != h:
		return fmt.Sprintf("must be lower-case (CloudFront aliases are): write %q", strings.ToLower(h))
	case net.ParseIP(h) != nil:
		return fmt.Sprintf("must be a DNS name, not an IP address, got %q", h)
	case len(h) > 253:
		return fmt.Sprintf("is longer than 253 characters (%d)", len(h))
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return fmt.Sprintf("has an invalid label %q: labels are 1-63 letters, digits, hyphens or underscores, not starting or ending with a hyphen", l)
		}
	}
	if len(labels) < 2 {
		return fmt.Sprintf("must be a fully qualified name such as api.example.com, got %q", h)
	}
	if _, err := strconv.Atoi(labels[len(labels)-1]); err == nil {
		return fmt.Sprintf("must end in a top-level domain, not a number, got %q", h)
	}
	return ""
}

func (v *validator) zone() {
	p := v.p
	z := &p.Zone
	switch z.Provider {
	case ProviderRoute53:
		v.route53Zone()
	case ProviderRFC2136:
		v.rfc2136Zone()
	default:
		msg := fmt.Sprintf("`zone.provider`: unsupported provider %q; supported: %s", z.Provider, strings.Join(Providers, ", "))
		if s := suggest(z.Provider, Providers); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		v.errf(&z.Provider, z.Pos, "%s", msg)
		return
	}
	if z.Name != "" {
		if msg := checkHostname(z.Name); msg != "" && !strings.HasPrefix(msg, "must be a fully qualified") {
			v.errf(&z.Name, z.Pos, "`zone.name` %s", msg)
		} else if p.Hostname != "" && p.Hostname != z.Name && !strings.HasSuffix(p.Hostname, "."+z.Name) {
			v.errf(&p.Hostname, p.Pos, "`hostname` %s is not inside zone %s", p.Hostname, z.Name)
		}
	}
}

func (v *validator) route53Zone() {
	p := v.p
	z := &p.Zone
	if z.ID == "" {
		// A bulk plan's selectors name their zones (checked with them).
		if !v.broken(&z.ID) && !v.broken(&p.Zone) && p.has(&p.Zone) && !p.IsBulk() {
			v.errf(&z.ID, z.Pos, "`zone.id` is required for provider route53 (the hosted zone id, like Z0123456789ABCDEFGHIJ)")
		}
	} else if !zoneIDRE.MatchString(z.ID) {
		v.errf(&z.ID, z.Pos, "`zone.id` must be a hosted zone id like Z0123456789ABCDEFGHIJ, got %q", z.ID)
	}
	for _, f := range []struct {
		ptr any
		key string
	}{{&z.Server, "server"}, {&z.Nameservers, "nameservers"}, {&z.TSIG, "tsig"}} {
		if p.has(f.ptr) {
			v.errf(f.ptr, z.Pos, "`zone.%s` is used only by provider rfc2136 (provider is route53)", f.key)
		}
	}
	v.identity(&z.RoleARN, &z.RoleChain, &z.ExternalID, &z.SessionName, z.Pos, "zone")
	if z.RateLimit != "" && !slices.Contains(RateLimits, z.RateLimit) {
		v.errf(&z.RateLimit, z.Pos, "`zone.rate_limit` must be one of %s, got %q", strings.Join(RateLimits, ", "), z.RateLimit)
	}
}

func (v *validator) rfc2136Zone() {
	p := v.p
	z := &p.Zone
	if z.Name == "" && !v.broken(&z.Name) {
		v.errf(&z.Name, z.Pos, "`zone.name` is required for provider rfc2136 (the zone's apex, like example.com)")
	}
	if z.Server == "" {
		if !v.broken(&z.Server) {
			v.errf(&z.Server, z.Pos, "`zone.server` is required for provider rfc2136 (the primary taking updates, like ns1.example.com:53)")
		}
	} else if msg := checkServer(z.Server); msg != "" {
		v.errf(&z.Server, z.Pos, "`zone.server` %s", msg)
	}
	for i, ns := range z.Nameservers {
		if msg := checkServer(ns); msg != "" {
			v.errf(&z.Nameservers[i], z.Pos, "`zone.nameservers[%d]` %s", i, msg)
		}
	}
	if z.TSIG == nil {
		if !v.broken(&z.TSIG) {
			v.errf(&z.TSIG, z.Pos, "`zone.tsig` is required for provider rfc2136: updates must be signed (name, algorithm, and secret_file or secret_env)")
		}
	} else {
		v.tsig(z.TSIG)
	}
	if z.ID != "" {
		v.errf(&z.ID, z.Pos, "`zone.id` is a Route 53 hosted zone id, used only by provider route53; an rfc2136 zone is named by `zone.name`")
	}
	for _, f := range []struct {
		ptr any
		key string
	}{{&z.RoleARN, "role_arn"}, {&z.RoleChain, "role_chain"}, {&z.ExternalID, "external_id"}, {&z.SessionName, "session_name"}} {
		if p.has(f.ptr) {
			v.errf(f.ptr, z.Pos, "`zone.%s`: an rfc2136 zone is reached with its TSIG key, not an AWS role", f.key)
		}
	}
}

func (v *validator) tsig(t *TSIG) {
	if t.Name != "" {
		if msg := checkHostname(strings.TrimSuffix(strings.ToLower(t.Name), ".")); msg != "" && !strings.HasPrefix(msg, "must be a fully qualified") {
			v.errf(&t.Name, t.Pos, "`zone.tsig.name` must be a DNS name: it %s", strings.TrimPrefix(msg, "must "))
		}
	}
	known := false
	for _, a := range TSIGAlgorithms {
		known = known || a == t.Algorithm
	}
	if !known {
		v.errf(&t.Algorithm, t.Pos, "`zone.tsig.algorithm` must be one of %s, got %q", strings.Join(TSIGAlgorithms, ", "), t.Algorithm)
	}
	switch {
	case t.SecretFile == "" && t.SecretEnv == "":
		if !v.broken(&t.SecretFile) && !v.broken(&t.SecretEnv) {
			v.errf(nil, t.Pos, "`zone.tsig` needs one of secret_file or secret_env (the secret itself is never written in a plan)")
		}
	case t.SecretFile != "" && t.SecretEnv != "":
		v.errf(&t.SecretEnv, t.Pos, "`zone.tsig` names both secret_file and secret_env; give exactly one")
	case t.SecretEnv != "" && !envNameRE.MatchString(t.SecretEnv):
		v.errf(&t.SecretEnv, t.Pos, "`zone.tsig.secret_env` must be an environment variable name (letters, digits, underscores), got %q", t.SecretEnv)
	}
}

// sameRoleSameWay reports a role named by two blocks that assume it
// differently: a run assumes each role once, one way.
func (v *validator) sameRoleSameWay() {
	p := v.p
	type use struct {
		id   Identity
		ptr  *string
		pos  Pos
		path string
	}
	uses := []use{{p.From.Identity, &p.From.RoleARN, p.From.Pos, "from"}, {p.To.Identity, &p.To.RoleARN, p.To.Pos, "to"}}
	if p.Zone.Provider == ProviderRoute53 {
		uses = append([]use{{p.Zone.Identity(), &p.Zone.RoleARN, p.Zone.Pos, "zone"}}, uses...)
	}
	for i, a := range uses {
		for _, b := range uses[i+1:] {
			if a.id.RoleARN == "" || a.id.RoleARN != b.id.RoleARN {
				continue
			}
			if a.id.ExternalID != b.id.ExternalID || a.id.SessionName != b.id.SessionName || strings.Join(a.id.RoleChain, " ") != strings.Join(b.id.RoleChain, " ") {
				v.errf(b.ptr, b.pos, "`%s.role_arn` %s is also `%s.role_arn`, with a different role_chain, external_id or session_name: a run assumes each role one way; write the same keys on both", b.path, b.id.RoleARN, a.path)
			}
		}
	}
}

// checkServer returns what is wrong with a host[:port], or "".
func checkServer(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, "53"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("must be host or host:port with a port from 1 to 65535, got %q", s)
	}
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return ""
	}
	if msg := checkHostname(host); msg != "" {
		return fmt.Sprintf("must be host or host:port: the host %s", msg)
	}
	return ""
}

// identity checks an AWS identity: its role ARNs, and that the keys that
// only shape an AssumeRole come with a role to assume.
func (v *validator) identity(role *string, chain *[]string, externalID, session *string, fallback Pos, path string) {
	v.roleARN(role, fallback, path+".role_arn")
	for i := range *chain {
		v.roleARN(&(*chain)[i], fallback, fmt.Sprintf("%s.role_chain[%d]", path, i))
	}
	if *role == "" {
		for _, f := range []struct {
			ptr any
			set bool
			key string
		}{{chain, len(*chain) > 0, "role_chain"}, {externalID, *externalID != "", "external_id"}, {session, *session != "", "session_name"}} {
			if f.set {
				v.errf(f.ptr, fallback, "`%s.%s` needs `%s.role_arn`: it shapes the role assumed", path, f.key, path)
			}
		}
	}
	if n := len(*externalID); n > 0 && (n < 2 || n > 1224 || !externalIDRE.MatchString(*externalID)) {
		v.errf(externalID, fallback, "`%s.external_id` must be 2-1224 letters, digits or +=,.@:/- (AWS STS), got %q", path, *externalID)
	}
	if *session != "" && !sessionNameRE.MatchString(*session) {
		v.errf(session, fallback, "`%s.session_name` must be 2-64 letters, digits or +=,.@- (AWS STS), got %q", path, *session)
	}
}

func (v *validator) roleARN(ptr *string, fallback Pos, path string) {
	if *ptr != "" && !roleARNRE.MatchString(*ptr) {
		v.errf(ptr, fallback, "`%s` must be an IAM role ARN like arn:aws:iam::222222222222:role/name, got %q", path, *ptr)
	}
}

func (v *validator) edges() {
	p := v.p
	if p.To.IsZero() && !v.broken(&p.To) && !p.has(&p.To) {
		v.errf(nil, p.Pos, "the plan: missing required field `to`")
	}
	for _, side := range []struct {
		e    *Edge
		path string
	}{{&p.From, "from"}, {&p.To, "to"}} {
		e := side.e
		if e.IsZero() || v.broken(&e.Value) {
			continue
		}
		path := side.path + "." + string(e.Kind)
		switch e.Kind {
		case EdgeCloudFront:
			switch {
			case strings.Contains(e.Value, "."):
				v.errf(&e.Value, e.Pos, "`%s` must be a distribution id like E2QWRUHAPOMQZL, not a domain name, got %q", path, e.Value)
			case !distIDRE.MatchString(e.Value):
				v.errf(&e.Value, e.Pos, "`%s` must be a distribution id like E2QWRUHAPOMQZL, got %q", path, e.Value)
			}
		case EdgeALB:
			if strings.HasPrefix(e.Value, "arn:") {
				if !albARNRE.MatchString(e.Value) {
					v.errf(&e.Value, e.Pos, "`%s` must be a load balancer ARN like arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/name/0123456789abcdef, got %q", path, e.Value)
				}
			} else if msg := checkHostname(e.Value); msg != "" {
				v.errf(&e.Value, e.Pos, "`%s` must be a load balancer ARN or DNS name: it %s", path, strings.TrimPrefix(msg, "must "))
			}
		case EdgeEndpoint:
			if msg := checkHostname(e.Value); msg != "" {
				v.errf(&e.Value, e.Pos, "`%s` %s", path, msg)
			}
		}
		v.identity(&e.RoleARN, &e.RoleChain, &e.ExternalID, &e.SessionName, e.Pos, side.path)
	}
	same := !p.From.IsZero() && p.From.Kind == p.To.Kind && p.From.Value == p.To.Value
	// One distribution to itself is a configuration change (staging), which
	// auto may also choose; any other edge to itself moves nothing.
	if same && p.Strategy != StrategyStaging && !(p.Strategy == StrategyAuto && p.From.Kind == EdgeCloudFront) {
		hint := ""
		if p.From.Kind == EdgeCloudFront {
			hint = "; to change one distribution's configuration use strategy staging"
		}
		v.errf(&p.To, p.To.Pos, "`to` is the same edge as `from` (%s): nothing would move%s", p.From, hint)
	}
}

// strategyEdges says which edge kinds a strategy needs, and why.
func (v *validator) strategy() {
	p := v.p
	known := false
	names := make([]string, len(Strategies))
	for i, s := range Strategies {
		names[i] = string(s)
		known = known || s == p.Strategy
	}
	if !known {
		msg := fmt.Sprintf("`strategy`: unknown strategy %q; expected one of %s", p.Strategy, strings.Join(names, ", "))
		if s := suggest(string(p.Strategy), names); s != "" {
			msg = fmt.Sprintf("`strategy`: unknown strategy %q; did you mean %q?", p.Strategy, s)
		}
		v.errf(&p.Strategy, p.Pos, "%s", msg)
		return
	}
	from, to := p.From.Kind, p.To.Kind
	if from == "" || to == "" {
		return // already reported
	}
	bothCF := from == EdgeCloudFront && to == EdgeCloudFront
	pair := fmt.Sprintf("%s -> %s", from, to)
	if p.Zone.Provider == ProviderRFC2136 {
		switch p.Strategy {
		case StrategyWeighted, StrategyBridge, StrategyAuto:
			v.errf(&p.Strategy, p.Pos, "strategy %s shifts traffic with weighted records, and plain DNS (zone provider rfc2136) has no weights: every answer holds the whole record set; use flip (one change after the TTL is lowered)", p.Strategy)
			return
		case StrategyAliasMove:
			v.errf(&p.Strategy, p.Pos, "strategy alias-move is not supported with zone provider rfc2136 (it needs Route 53's alias records); use flip")
			return
		}
	}
	switch p.Strategy {
	case StrategyWeighted:
		if bothCF {
			subject := p.Hostname
			if p.IsBulk() {
				subject = "the hostnames' traffic"
			}
			v.errf(&p.Strategy, p.Pos, "strategy weighted cannot split %s between two CloudFront distributions: an edge picks the distribution by Host, and the alias can be on only one distribution at a time, so every request would reach whichever holds it; use alias-move (same account) or bridge (drains the old distribution first)", subject)
		}
	case StrategyAliasMove:
		if !bothCF {
			v.errf(&p.Strategy, p.Pos, "strategy alias-move moves a CloudFront alternate domain name, so `from` and `to` must both be cloudfront, got %s; use weighted or flip", pair)
		}
	case StrategyBridge:
		if !bothCF {
			v.errf(&p.Strategy, p.Pos, "strategy bridge moves between two CloudFront distributions, got %s; use weighted or flip", pair)
		}
		if p.Bridge == nil {
			v.errf(&p.Strategy, p.Pos, "strategy bridge needs a `bridge` block with endpoint and rewrite_host")
		}
	case StrategyMaintenance:
		if bothCF {
			v.errf(&p.To, p.To.Pos, "strategy maintenance cannot put a CloudFront page (%s) in front of a hostname a CloudFront distribution serves (%s): the alternate domain name lives on one distribution only and CloudFront routes by Host, so the page would never answer; host the page on a load balancer, or an S3 website as an endpoint", p.To.Value, p.From.Value)
		}
	case StrategyStaging:
		if from != EdgeCloudFront || p.From.Value != p.To.Value || to != EdgeCloudFront {
			v.errf(&p.Strategy, p.Pos, "strategy staging changes one CloudFront distribution's configuration through continuous deployment: `from` must be cloudfront and `to` the same distribution (or left out), got %s", pair)
		}
	}
	blocks := []struct {
		ptr  any
		set  bool
		key  string
		want Strategy
	}{
		{&p.AliasMove, p.has(&p.AliasMove), "alias_move", StrategyAliasMove},
		{&p.Bridge, p.has(&p.Bridge), "bridge", StrategyBridge},
		{&p.Staging, p.has(&p.Staging), "staging", StrategyStaging},
		{&p.Maintenance, p.has(&p.Maintenance), "maintenance", StrategyMaintenance},
	}
	for _, b := range blocks {
		if b.set && p.Strategy != b.want && p.Strategy != StrategyAuto {
			v.errf(b.ptr, p.Pos, "`%s` is used only by strategy %s (strategy is %s)", b.key, b.want, p.Strategy)
		}
	}
	if p.has(&p.Steps) && !p.Strategy.usesSteps() {
		v.errf(&p.Steps, p.Pos, "`steps` are used only by strategies weighted, bridge and auto (strategy is %s)", p.Strategy)
	}
}

func (v *validator) ttl() {
	t := &v.p.TTL
	for _, f := range []struct {
		ptr  *int64
		name string
	}{{&t.Cutover, "cutover"}, {&t.Restore, "restore"}} {
		if *f.ptr < 0 || *f.ptr > MaxTTL {
			v.errf(f.ptr, t.Pos, "`ttl.%s` must be between 0 and %d seconds, got %d", f.name, MaxTTL, *f.ptr)
		}
	}
	if t.Restore > 0 && t.Cutover > t.Restore {
		v.warnf(&t.Cutover, t.Pos, "`ttl.cutover` (%ds) is longer than `ttl.restore` (%ds): the move would take effect and roll back more slowly than normal changes", t.Cutover, t.Restore)
	}
	switch {
	case t.Prepare < 0:
		v.errf(&t.Prepare, t.Pos, "`ttl.prepare` must not be negative, got %s", t.Prepare)
	case v.p.has(&t.Prepare) && t.Prepare > 0 && t.Prepare.Std() < typicalTTL:
		v.warnf(&t.Prepare, t.Pos, "`ttl.prepare` (%s) is shorter than a typical TTL (%s); the run waits at least the TTL observed before it anyway", t.Prepare, Duration(typicalTTL))
	}
}

// gates checks every gate and returns the set of gate names.
func (v *validator) gates() map[string]bool {
	p := v.p
	names := map[string]bool{}
	first := map[string]Pos{}
	for i := range p.Gates {
		g := &p.Gates[i]
		path := fmt.Sprintf("gates[%d]", i)
		if g.Name != "" || p.has(&g.Name) {
			if !nameRE.MatchString(g.Name) {
				v.errf(&g.Name, g.Pos, "`%s.name` must be 1-63 lower-case letters, digits or hyphens, got %q", path, g.Name)
			}
			if at, dup := first[g.Name]; dup {
				v.errf(&g.Name, g.Pos, "`%s.name`: duplicate gate name %q (first used at line %d)", path, g.Name, at.Line)
			} else {
				first[g.Name] = v.p.positions[&g.Name]
			}
			names[g.Name] = true
		}
		if g.Interval <= 0 {
			v.errf(&g.Interval, g.Pos, "`%s.interval` must be greater than 0, got %s", path, g.Interval)
		}
		if g.For < 0 {
			v.errf(&g.For, g.Pos, "`%s.for` must not be negative, got %s", path, g.For)
		}
		if g.OnFailure != OnFailureRollback && g.OnFailure != OnFailurePause {
			v.errf(&g.OnFailure, g.Pos, "`%s.on_failure` must be rollback or pause, got %q", path, g.OnFailure)
		}
		if g.InconclusiveLimit < 0 {
			v.errf(&g.InconclusiveLimit, g.Pos, "`%s.inconclusive_limit` must not be negative, got %d", path, g.InconclusiveLimit)
		}
		if g.Drain != nil && (p.has(&g.InconclusiveLimit) || p.has(&g.DryRun)) {
			v.errf(&g.Drain, g.Pos, "`%s`: inconclusive_limit and dry_run apply to breach gates (cloudwatch, probe), not to a drain gate", path)
		}
		set := 0
		for _, p := range []bool{g.CloudWatch != nil, g.Probe != nil, g.Drain != nil} {
			if p {
				set++
			}
		}
		switch {
		case set == 0:
			if !v.broken(&g.CloudWatch) && !v.broken(&g.Probe) && !v.broken(&g.Drain) {
				v.errf(nil, g.Pos, "`%s` needs exactly one of cloudwatch, probe or drain", path)
			}
		case set > 1:
			// Point at the second provider: the one to move out.
			var second any = &g.Probe
			if g.Drain != nil {
				second = &g.Drain
			}
			v.errf(second, g.Pos, "`%s` sets more than one of cloudwatch, probe and drain; a gate checks one thing, so split it into several gates", path)
		case g.CloudWatch != nil:
			v.cloudwatch(g.CloudWatch, path+".cloudwatch")
		case g.Probe != nil:
			v.probe(g.Probe, path+".probe")
		default:
			v.drain(g.Drain, path+".drain")
		}
	}
	return names
}

func (v *validator) cloudwatch(c *CloudWatchGate, path string) {
	if c.Region != "" && !regionRE.MatchString(c.Region) {
		v.errf(&c.Region, c.Pos, "`%s.region` must be an AWS region like us-east-1, got %q", path, c.Region)
	}
	v.roleARN(&c.RoleARN, c.Pos, path+".role_arn")
	switch {
	case c.Metric != nil && c.Expression != "":
		v.errf(&c.Expression, c.Pos, "`%s` sets both metric and expression; use one", path)
	case c.Metric == nil && c.Expression == "":
		if !v.broken(&c.Metric) && !v.broken(&c.Expression) {
			v.errf(nil, c.Pos, "`%s` needs a metric, or an expression with metrics", path)
		}
	case c.Metric != nil:
		if len(c.Metrics) > 0 {
			v.errf(&c.Metrics, c.Pos, "`%s.metrics` are the inputs of an expression; with a single metric, leave them out", path)
		}
		v.metric(c.Metric, path+".metric", c)
	default:
		if len(c.Metrics) == 0 && !v.broken(&c.Metrics) {
			v.errf(&c.Expression, c.Pos, "`%s.expression` needs `metrics` to name its inputs", path)
		}
		for _, id := range sortedKeys(c.Metrics) {
			m := c.Metrics[id]
			if !metricIDRE.MatchString(id) {
				v.errf(m, c.Pos, "`%s.metrics`: id %q must start with a lower-case letter, then letters, digits or underscores", path, id)
			}
			if !strings.Contains(c.Expression, id) {
				v.warnf(m, c.Pos, "`%s.metrics.%s` is not used by the expression %q", path, id, c.Expression)
			}
			v.metric(m, path+".metrics."+id, c)
		}
	}
	if !contains(Comparisons, c.Comparison) {
		v.errf(&c.Comparison, c.Pos, "`%s.comparison` must be one of %s (what counts as a breach), got %q", path, strings.Join(Comparisons, " "), c.Comparison)
	}
	switch c.Missing {
	case MissingZero, MissingBreach, MissingIgnore:
	default:
		v.errf(&c.Missing, c.Pos, "`%s.missing` must be zero, breach or ignore, got %q", path, c.Missing)
	}
}

func (v *validator) metric(m *Metric, path string, c *CloudWatchGate) {
	if m == nil {
		return
	}
	if !statRE.MatchString(m.Stat) && (m.Stat != "" || v.p.has(&m.Stat)) {
		v.errf(&m.Stat, m.Pos, "`%s.stat` must be Sum, Average, Minimum, Maximum, SampleCount or a percentile like p99, got %q", path, m.Stat)
	}
	switch {
	case m.Period <= 0:
		v.errf(&m.Period, m.Pos, "`%s.period` must be greater than 0 seconds, got %d", path, m.Period)
	case m.Period%60 != 0 && m.Period != 1 && m.Period != 5 && m.Period != 10 && m.Period != 20 && m.Period != 30:
		v.errf(&m.Period, m.Pos, "`%s.period` must be a multiple of 60 seconds (or 1, 5, 10, 20, 30 for high-resolution metrics), got %d", path, m.Period)
	}
	if m.Namespace == "AWS/CloudFront" {
		if c.Region != "" && c.Region != "us-east-1" {
			v.errf(&c.Region, c.Pos, "CloudFront metrics are published only in us-east-1; `%s` reads AWS/CloudFront but region is %q", path, c.Region)
		}
		if m.Dimensions["DistributionId"] == "" || m.Dimensions["Region"] != "Global" {
			v.warnf(&m.Dimensions, m.Pos, "`%s`: CloudFront metrics need the dimensions DistributionId and Region: Global, or no datapoint matches", path)
		}
	}
}

func (v *validator) probe(pg *ProbeGate, path string) {
	if pg.URL != "" || v.p.has(&pg.URL) {
		u, err := url.Parse(pg.URL)
		switch {
		case err != nil:
			v.errf(&pg.URL, pg.Pos, "`%s.url` is not a valid URL: %v", path, err)
		case u.Scheme != "http" && u.Scheme != "https":
			v.errf(&pg.URL, pg.Pos, "`%s.url` must be an http or https URL, got %q", path, pg.URL)
		case u.Hostname() == "":
			v.errf(&pg.URL, pg.Pos, "`%s.url` has no host, got %q", path, pg.URL)
		}
	}
	if len(pg.ExpectStatus) == 0 && !v.broken(&pg.ExpectStatus) {
		v.errf(&pg.ExpectStatus, pg.Pos, "`%s.expect_status` must list at least one status code", path)
	}
	for i := range pg.ExpectStatus {
		if s := pg.ExpectStatus[i]; s < 100 || s > 599 {
			v.errf(&pg.ExpectStatus[i], pg.Pos, "`%s.expect_status[%d]` must be an HTTP status between 100 and 599, got %d", path, i, s)
		}
	}
	for _, k := range sortedKeys(pg.Header) {
		if !headerTokenRE.MatchString(k) {
			v.errf(&pg.Header, pg.Pos, "`%s.header`: %q is not a valid header name", path, k)
		}
	}
	if pg.Timeout <= 0 {
		v.errf(&pg.Timeout, pg.Pos, "`%s.timeout` must be greater than 0, got %s", path, pg.Timeout)
	}
}

// steps checks a list of percent weight steps that must end at 100.
func (v *validator) steps(steps []Step, ptr any, path string, fallback Pos, gates map[string]bool) {
	if len(steps) == 0 {
		if !v.broken(ptr) {
			v.errf(ptr, fallback, "`%s` must list at least one step", path)
		}
		return
	}
	prev := -1
	lastWeight := -1
	for i := range steps {
		s := &steps[i]
		sp := fmt.Sprintf("%s[%d]", path, i)
		v.gateRefs(s.Gates, sp, gates)
		if s.Approve != nil {
			v.approve(s, sp)
			continue
		}
		lastWeight = i
		switch {
		case v.broken(&s.Weight):
		case !s.Pos.IsZero() && !v.p.has(&s.Weight):
			v.errf(nil, s.Pos, "`%s`: missing required field `weight` (or `approve: {}` for a manual approval)", sp)
			continue
		case s.Weight < 0 || s.Weight > 100:
			v.errf(&s.Weight, s.Pos, "`%s.weight` must be a percentage between 0 and 100, got %d", sp, s.Weight)
		case s.Weight <= prev:
			v.errf(&s.Weight, s.Pos, "`%s.weight` must be greater than the step before it (%d), got %d: weights increase strictly", sp, prev, s.Weight)
		}
		if !v.broken(&s.Weight) && s.Weight >= 0 && s.Weight <= 100 {
			prev = max(prev, s.Weight)
		}
		if s.Pause < 0 {
			v.errf(&s.Pause, s.Pos, "`%s.pause` must not be negative, got %s", sp, s.Pause)
		}
	}
	if last := &steps[len(steps)-1]; last.Approve != nil {
		v.errf(&last.Approve, last.Pos, "`%s[%d]`: the last step must send all traffic to the new edge (100); put the approval before the step it guards", path, len(steps)-1)
		return
	}
	if lastWeight < 0 {
		return
	}
	last := &steps[lastWeight]
	if last.Weight != 100 && !v.broken(&last.Weight) && last.Weight >= 0 && last.Weight < 100 && (last.Pos.IsZero() || v.p.has(&last.Weight)) {
		v.errf(&last.Weight, last.Pos, "`%s[%d].weight`: the last step must send all traffic to the new edge (100), got %d", path, lastWeight, last.Weight)
	}
}

// approve checks a manual approval step.
func (v *validator) approve(s *Step, sp string) {
	a := s.Approve
	if v.p.has(&s.Weight) {
		v.errf(&s.Weight, s.Pos, "`%s` sets both weight and approve; an approval is a step of its own, between two shifts", sp)
	}
	if v.p.has(&s.Pause) {
		v.errf(&s.Pause, s.Pos, "`%s.pause`: an approval step waits for `cutover promote`; give it `approve.timeout` instead", sp)
	}
	if a.Timeout < 0 {
		v.errf(&a.Timeout, a.Pos, "`%s.approve.timeout` must not be negative, got %s", sp, a.Timeout)
	}
	if a.OnTimeout != OnTimeoutRollback && a.OnTimeout != OnTimeoutPause {
		v.errf(&a.OnTimeout, a.Pos, "`%s.approve.on_timeout` must be rollback or pause, got %q", sp, a.OnTimeout)
	} else if v.p.has(&a.OnTimeout) && a.Timeout == 0 {
		v.warnf(&a.OnTimeout, a.Pos, "`%s.approve.on_timeout` has no effect without `approve.timeout`: the run waits until promoted", sp)
	}
}

func (v *validator) gateRefs(refs []string, path string, gates map[string]bool) {
	known := sortedKeys(gates)
	for i := range refs {
		if gates[refs[i]] {
			continue
		}
		msg := fmt.Sprintf("`%s.gates[%d]`: no gate named %q", path, i, refs[i])
		if s := suggest(refs[i], known); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else if len(known) > 0 {
			msg += "; gates are: " + strings.Join(known, ", ")
		} else {
			msg += "; the plan defines no gates"
		}
		v.errf(&refs[i], v.p.Pos, "%s", msg)
	}
}

func (v *validator) verify() {
	vf := v.p.Verify
	if vf == nil {
		return
	}
	if !strings.HasPrefix(vf.Path, "/") {
		v.errf(&vf.Path, vf.Pos, "`verify.path` must start with /, got %q", vf.Path)
	}
	if vf.Expect.New == "" && v.p.has(&vf.Expect.New) {
		v.errf(&vf.Expect.New, vf.Expect.Pos, "`verify.expect.new` must not be empty: it is how the new edge is recognised")
	}
	if vf.Expect.New != "" && vf.Expect.Old == vf.Expect.New {
		v.errf(&vf.Expect.Old, vf.Expect.Pos, "`verify.expect.old` and `verify.expect.new` are both %q; the two sides could not be told apart", vf.Expect.New)
	}
	if vf.Header != "" && !headerTokenRE.MatchString(vf.Header) {
		v.errf(&vf.Header, vf.Pos, "`verify.header` is not a valid header name, got %q", vf.Header)
	}
	if vf.Samples < 1 {
		v.errf(&vf.Samples, vf.Pos, "`verify.samples` must be at least 1, got %d", vf.Samples)
	}
	for i, r := range vf.Resolvers {
		host, port, err := net.SplitHostPort(r)
		if err != nil {
			v.errf(&vf.Resolvers[i], vf.Pos, "`verify.resolvers[%d]` must be an IP address, optionally with :port, got %q", i, r)
			continue
		}
		if n, perr := strconv.Atoi(port); perr != nil || n < 1 || n > 65535 || (net.ParseIP(host) == nil && checkHostname(host) != "") {
			v.errf(&vf.Resolvers[i], vf.Pos, "`verify.resolvers[%d]` must be an IP address, optionally with :port, got %q", i, r)
		}
	}
}

func (v *validator) aliasMove() {
	a := v.p.AliasMove
	if a == nil {
		return
	}
	if !contains(AliasMoveModes, a.Mode) {
		v.errf(&a.Mode, a.Pos, "`alias_move.mode` must be associate or wait-for-swap, got %q", a.Mode)
	}
	if a.Timeout <= 0 {
		v.errf(&a.Timeout, a.Pos, "`alias_move.timeout` must be greater than 0, got %s", a.Timeout)
	}
	if a.Poll <= 0 {
		v.errf(&a.Poll, a.Pos, "`alias_move.poll` must be greater than 0, got %s", a.Poll)
	} else if a.Timeout > 0 && a.Poll > a.Timeout {
		v.errf(&a.Poll, a.Pos, "`alias_move.poll` (%s) must not exceed `alias_move.timeout` (%s)", a.Poll, a.Timeout)
	}
	if a.Settle < 0 {
		v.errf(&a.Settle, a.Pos, "`alias_move.settle` must not be negative, got %s", a.Settle)
	}
}

func (v *validator) bridge(gates map[string]bool) {
	b := v.p.Bridge
	if b == nil {
		return
	}
	if b.Endpoint != "" || v.p.has(&b.Endpoint) {
		if msg := checkHostname(b.Endpoint); msg != "" {
			v.errf(&b.Endpoint, b.Pos, "`bridge.endpoint` %s", msg)
		}
	}
	if b.RewriteHost != "" || v.p.has(&b.RewriteHost) {
		if msg := checkHostname(b.RewriteHost); msg != "" {
			v.errf(&b.RewriteHost, b.Pos, "`bridge.rewrite_host` %s", msg)
		} else if b.RewriteHost == v.p.Hostname {
			v.errf(&b.RewriteHost, b.Pos, "`bridge.rewrite_host` must differ from `hostname`: it is the name by which the bridge reaches the new distribution while %s is still on the old one", v.p.Hostname)
		}
	}
	v.steps(b.Steps, &b.Steps, "bridge.steps", b.Pos, gates)
}

func (v *validator) staging(gates map[string]bool) {
	s := v.p.Staging
	if s == nil {
		return
	}
	p := v.p
	if p.has(&s.Weight) && p.has(&s.Steps) {
		v.errf(&s.Weight, s.Pos, "`staging` sets both weight and steps; weight is the shorthand for a single step")
	}
	if p.has(&s.Pause) && !p.has(&s.Weight) {
		v.errf(&s.Pause, s.Pos, "`staging.pause` goes with `staging.weight`; in `staging.steps` give each step its own pause")
	}
	if p.has(&s.Weight) && !validStagingWeight(s.Weight) {
		v.errf(&s.Weight, s.Pos, "`staging.weight` must be greater than 0 and at most %g (CloudFront sends at most 15%% of viewers to staging), got %g", MaxStagingWeight, s.Weight)
	}
	if p.has(&s.Steps) {
		if len(s.Steps) == 0 {
			v.errf(&s.Steps, s.Pos, "`staging.steps` must list at least one step")
		}
		prev := 0.0
		for i := range s.Steps {
			st := &s.Steps[i]
			sp := fmt.Sprintf("staging.steps[%d]", i)
			switch {
			case v.broken(&st.Weight):
			case !validStagingWeight(st.Weight):
				v.errf(&st.Weight, st.Pos, "`%s.weight` must be greater than 0 and at most %g, got %g", sp, MaxStagingWeight, st.Weight)
			case st.Weight <= prev:
				v.errf(&st.Weight, st.Pos, "`%s.weight` must be greater than the step before it (%g), got %g", sp, prev, st.Weight)
			}
			prev = math.Max(prev, st.Weight)
			if st.Pause < 0 {
				v.errf(&st.Pause, st.Pos, "`%s.pause` must not be negative, got %s", sp, st.Pause)
			}
			v.gateRefs(st.Gates, sp, gates)
		}
	}
	if s.Pause < 0 {
		v.errf(&s.Pause, s.Pos, "`staging.pause` must not be negative, got %s", s.Pause)
	}
	if h := s.Header; h != nil {
		if !strings.HasPrefix(strings.ToLower(h.Name), StagingHeaderPrefix) && !v.broken(&h.Name) {
			v.errf(&h.Name, h.Pos, "`staging.header.name` must start with %s (a CloudFront rule), got %q", StagingHeaderPrefix, h.Name)
		} else if !headerTokenRE.MatchString(h.Name) {
			v.errf(&h.Name, h.Pos, "`staging.header.name` is not a valid header name, got %q", h.Name)
		}
		if h.Value == "" && p.has(&h.Value) {
			v.errf(&h.Value, h.Pos, "`staging.header.value` must not be empty")
		}
	}
	if st := s.Stickiness; st != nil {
		if len(s.Steps) == 0 {
			v.errf(&s.Stickiness, s.Pos, "`staging.stickiness` applies only to weight-based staging; add a weight or steps")
		}
		for _, f := range []struct {
			ptr  *Duration
			name string
		}{{&st.Idle, "idle"}, {&st.Max, "max"}} {
			if *f.ptr < Duration(300*time.Second) || *f.ptr > Duration(3600*time.Second) {
				v.errf(f.ptr, st.Pos, "`staging.stickiness.%s` must be between 5m and 1h (300-3600 s), got %s", f.name, *f.ptr)
			}
		}
		if st.Idle > st.Max {
			v.errf(&st.Idle, st.Pos, "`staging.stickiness.idle` (%s) must not exceed `staging.stickiness.max` (%s)", st.Idle, st.Max)
		}
	}
}

func validStagingWeight(w float64) bool { return w > 0 && w <= MaxStagingWeight }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (v *validator) drain(d *DrainGate, path string) {
	switch {
	case d.CloudWatch == nil && d.Prometheus == nil:
		v.errf(nil, d.Pos, "`%s` needs exactly one of cloudwatch or prometheus", path)
	case d.CloudWatch != nil && d.Prometheus != nil:
		v.errf(nil, d.Pos, "`%s` sets both cloudwatch and prometheus; pick the one that sees the old edge", path)
	case d.CloudWatch != nil:
		c := d.CloudWatch
		if (c.DistributionID == "") == (c.LoadBalancer == "") {
			v.errf(nil, c.Pos, "`%s.cloudwatch` needs exactly one of distribution_id or load_balancer", path)
		}
		if c.Period != 0 && c.Period%60 != 0 {
			v.errf(&c.Period, c.Pos, "`%s.cloudwatch.period` must be a multiple of 60 (AWS-vended metrics are per minute), got %d", path, c.Period)
		}
	}
	if d.Threshold < 0 {
		v.errf(&d.Threshold, d.Pos, "`%s.threshold` must not be negative, got %g", path, d.Threshold)
	}
	if d.Fraction < 0 || d.Fraction >= 1 {
		v.errf(&d.Fraction, d.Pos, "`%s.fraction` must be in [0, 1), got %g", path, d.Fraction)
	}
	if d.Window < 0 || d.Timeout < 0 {
		v.errf(nil, d.Pos, "`%s.window` and `%s.timeout` must not be negative", path, path)
	}
	switch d.Policy {
	case "", "wait", "pause", "rollback":
	default:
		v.errf(&d.Policy, d.Pos, "`%s.policy` must be wait, pause or rollback, got %q", path, d.Policy)
	}
}

// httpURL returns what is wrong with an http(s) URL, or "".
func httpURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Sprintf("is not a valid URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("must be an http or https URL, got %q", raw)
	case u.Hostname() == "":
		return fmt.Sprintf("has no host, got %q", raw)
	}
	return ""
}

func (v *validator) webhooks() {
	p := v.p
	first := map[string]int{}
	for i := range p.Webhooks {
		h := &p.Webhooks[i]
		path := fmt.Sprintf("webhooks[%d]", i)
		if h.Name != "" || p.has(&h.Name) {
			if !nameRE.MatchString(h.Name) {
				v.errf(&h.Name, h.Pos, "`%s.name` must be 1-63 lower-case letters, digits or hyphens, got %q", path, h.Name)
			}
			key := h.Type + "/" + h.Name
			if line, dup := first[key]; dup {
				v.errf(&h.Name, h.Pos, "`%s.name`: duplicate %s webhook %q (first at line %d)", path, h.Type, h.Name, line)
			} else {
				first[key] = p.positions[&h.Name].Line
			}
		}
		if (h.Type != "" || p.has(&h.Type)) && !contains(WebhookTypes, h.Type) {
			msg := fmt.Sprintf("`%s.type` must be one of %s, got %q", path, strings.Join(WebhookTypes, ", "), h.Type)
			if s := suggest(h.Type, WebhookTypes); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			v.errf(&h.Type, h.Pos, "%s", msg)
		}
		if h.URL != "" || p.has(&h.URL) {
			if msg := httpURL(h.URL); msg != "" {
				v.errf(&h.URL, h.Pos, "`%s.url` %s", path, msg)
			}
		}
		if h.Timeout <= 0 {
			v.errf(&h.Timeout, h.Pos, "`%s.timeout` must be greater than 0, got %s", path, h.Timeout)
		}
		switch {
		case h.SecretEnv != "" && h.SecretFile != "":
			v.errf(&h.SecretFile, h.Pos, "`%s` sets both secret_env and secret_file; the signing secret comes from one place", path)
		case h.SecretEnv != "" && !envNameRE.MatchString(h.SecretEnv):
			v.errf(&h.SecretEnv, h.Pos, "`%s.secret_env` must name an environment variable (letters, digits, underscores), got %q", path, h.SecretEnv)
		case h.SecretEnv == "" && h.SecretFile == "":
			v.warnf(nil, h.Pos, "`%s` has no secret_env or secret_file: its calls are unsigned, and a receiver cannot tell they came from this run", path)
		}
	}
}

func (v *validator) notify() {
	p := v.p
	for i := range p.Notify {
		n := &p.Notify[i]
		path := fmt.Sprintf("notify[%d]", i)
		if (n.Name != "" || p.has(&n.Name)) && !nameRE.MatchString(n.Name) {
			v.errf(&n.Name, n.Pos, "`%s.name` must be 1-63 lower-case letters, digits or hyphens, got %q", path, n.Name)
		}
		if (n.Kind != "" || p.has(&n.Kind)) && !contains(NotifyKinds, n.Kind) {
			v.errf(&n.Kind, n.Pos, "`%s.kind` must be slack or webhook, got %q", path, n.Kind)
		}
		switch {
		case n.URL != "" && n.URLEnv != "":
			v.errf(&n.URLEnv, n.Pos, "`%s` sets both url and url_env; use one", path)
		case n.URL == "" && n.URLEnv == "":
			if !v.broken(&n.URL) && !v.broken(&n.URLEnv) {
				v.errf(nil, n.Pos, "`%s` needs url or url_env", path)
			}
		case n.URL != "":
			if msg := httpURL(n.URL); msg != "" {
				v.errf(&n.URL, n.Pos, "`%s.url` %s", path, msg)
			}
		case !envNameRE.MatchString(n.URLEnv):
			v.errf(&n.URLEnv, n.Pos, "`%s.url_env` must name an environment variable (letters, digits, underscores), got %q", path, n.URLEnv)
		}
	}
}
