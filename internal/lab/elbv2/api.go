package elbv2

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Namespace is the XML namespace of every ELBv2 response.
const Namespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

const apiVersion = "2015-12-01"

// maxMembers bounds the .member.N lists the lab reads; AWS's own limits
// (20 names, 400 page items) are far below it.
const maxMembers = 1000

type params url.Values

func (p params) get(k string) string { return url.Values(p).Get(k) }

func (p params) has(k string) bool { _, ok := p[k]; return ok }

// list reads prefix.member.1, prefix.member.2, … up to the first gap.
func (p params) list(prefix string) []string {
	return awsapi.QueryMembers(url.Values(p), prefix, maxMembers)
}

func (p params) integer(k string) (int, bool, error) {
	v := p.get(k)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < -1<<31 || n > 1<<31-1 {
		return 0, false, validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", v, lowerFirst(k))
	}
	return n, true, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// targets reads Targets.member.N.{Id,Port}.
func (p params) targets() ([]Target, error) {
	var out []Target
	for i := 1; i <= maxMembers; i++ {
		prefix := fmt.Sprintf("Targets.member.%d.", i)
		if !p.has(prefix+"Id") && !p.has(prefix+"Port") {
			break
		}
		port, _, err := p.integer(prefix + "Port")
		if err != nil {
			return nil, err
		}
		id := p.get(prefix + "Id")
		if id == "" {
			return nil, nullError(fmt.Sprintf("targets.%d.member.id", i))
		}
		out = append(out, Target{ID: id, Port: port})
	}
	return out, nil
}

// caller is who asks, and in which region.
type caller struct {
	id     awsapi.Identity
	region string
}

// ServeHTTP answers one query-protocol request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	awsapi.ServeQuery(w, r, Namespace, apiVersion, func(action string, v url.Values) (any, error) {
		// Resources are left out: the Describe calls a plan makes are
		// authorized on "*" only.
		awsapi.NoteCall(r.Context(), action, "")
		c := caller{id: awsapi.IdentityFrom(r.Context()), region: DefaultRegion}
		if sc, ok := awsapi.ParseScope(r); ok && sc.Region != "" {
			c.region = sc.Region
		}
		handler, ok := map[string]func(caller, params) (any, error){
			"DescribeLoadBalancers": s.describeLoadBalancers,
			"CreateLoadBalancer":    s.createLoadBalancer,
			"DeleteLoadBalancer":    s.deleteLoadBalancer,
			"CreateTargetGroup":     s.createTargetGroup,
			"DescribeTargetGroups":  s.describeTargetGroups,
			"DeleteTargetGroup":     s.deleteTargetGroup,
			"RegisterTargets":       s.registerTargets,
			"DeregisterTargets":     s.deregisterTargets,
			"DescribeTargetHealth":  s.describeTargetHealth,
			"CreateListener":        s.createListener,
			"DescribeListeners":     s.describeListeners,
			"DeleteListener":        s.deleteListener,
		}[action]
		if !ok {
			return nil, awsapi.ErrUnknownAction(action, apiVersion)
		}
		return handler(c, params(v))
	})
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Errors with the messages AWS sends.
var (
	errLBNotFound       = awsapi.Errorf(http.StatusBadRequest, "LoadBalancerNotFound", "One or more load balancers not found")
	errTGNotFound       = awsapi.Errorf(http.StatusBadRequest, "TargetGroupNotFound", "One or more target groups not found")
	errListenerNotFound = awsapi.Errorf(http.StatusBadRequest, "ListenerNotFound", "One or more listeners not found")
)

// owns reports whether a resource of account/region is visible to c:
// load balancers are regional and never shared across accounts.
func (c caller) owns(account, region string) bool {
	return account == c.id.AccountID && region == c.region
}

func (s *Service) lbLocked(c caller, arn string) (*loadBalancer, error) {
	if _, _, ok := parseARNRegionAccount(arn); !ok {
		return nil, validationError("'%s' is not a valid load balancer ARN", arn)
	}
	lb, ok := s.lbs[arn]
	if !ok || !c.owns(lb.Account, lb.Region) {
		return nil, errLBNotFound
	}
	return lb, nil
}

func (s *Service) tgLocked(c caller, arn string) (*targetGroup, error) {
	if _, _, ok := parseARNRegionAccount(arn); !ok {
		return nil, validationError("'%s' is not a valid target group ARN", arn)
	}
	tg, ok := s.tgs[arn]
	if !ok || !c.owns(tg.Account, tg.Region) {
		return nil, errTGNotFound
	}
	return tg, nil
}

// Page markers are opaque to clients; inside they name the last sequence
// number returned.
func encodeMarker(seq int64) string { return fmt.Sprintf("lab-elb-%020d", seq) }

func decodeMarker(m string) (int64, error) {
	var n int64
	if _, err := fmt.Sscanf(m, "lab-elb-%020d", &n); err != nil || encodeMarker(n) != m {
		return 0, validationError("The marker '%s' is not valid", m)
	}
	return n, nil
}

func (p params) paging() (after int64, size int, err error) {
	size = 400
	if n, ok, err := p.integer("PageSize"); err != nil {
		return 0, 0, err
	} else if ok {
		if n < 1 || n > 400 {
			return 0, 0, validationError("1 validation error detected: Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400", n)
		}
		size = n
	}
	if m := p.get("Marker"); m != "" {
		if after, err = decodeMarker(m); err != nil {
			return 0, 0, err
		}
	}
	return after, size, nil
}

// ---- load balancers

type azXML struct {
	ZoneName string `xml:"ZoneName"`
	SubnetId string `xml:"SubnetId"`
}

type stateXML struct {
	Code string `xml:"Code"`
}

type lbXML struct {
	LoadBalancerArn       string   `xml:"LoadBalancerArn"`
	DNSName               string   `xml:"DNSName"`
	CanonicalHostedZoneId string   `xml:"CanonicalHostedZoneId"`
	CreatedTime           string   `xml:"CreatedTime"`
	LoadBalancerName      string   `xml:"LoadBalancerName"`
	Scheme                string   `xml:"Scheme"`
	VpcId                 string   `xml:"VpcId"`
	State                 stateXML `xml:"State"`
	Type                  string   `xml:"Type"`
	AvailabilityZones     []azXML  `xml:"AvailabilityZones>member"`
	SecurityGroups        []string `xml:"SecurityGroups>member"`
	IpAddressType         string   `xml:"IpAddressType"`
}

func lbView(lb *loadBalancer) lbXML {
	subnets := lb.Subnets
	if len(subnets) == 0 {
		subnets = []string{"subnet-" + randomSeeded(lb.ARN, "a"), "subnet-" + randomSeeded(lb.ARN, "b")}
	}
	v := lbXML{
		LoadBalancerArn: lb.ARN, DNSName: lb.DNSName, CanonicalHostedZoneId: lb.ZoneID, CreatedTime: isoTime(lb.CreatedAt),
		LoadBalancerName: lb.Name, Scheme: lb.Scheme, VpcId: lb.VpcID, State: stateXML{Code: "active"}, Type: "application",
		SecurityGroups: []string{"sg-" + randomSeeded(lb.VpcID, "default")}, IpAddressType: "ipv4",
	}
	for i, sn := range subnets {
		v.AvailabilityZones = append(v.AvailabilityZones, azXML{ZoneName: lb.Region + string(rune('a'+i%6)), SubnetId: sn})
	}
	return v
}

// randomSeeded is a stable pseudo-id derived from its inputs, so views of
// the same resource agree without storing every decorative id.
func randomSeeded(parts ...string) string {
	h := uint64(14695981039346656037)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= 1099511628211
		}
	}
	return fmt.Sprintf("%017x", h)[:17]
}

type lbsResult struct {
	LoadBalancers []lbXML `xml:"LoadBalancers>member"`
	NextMarker    string  `xml:"NextMarker,omitempty"`
}

func (s *Service) describeLoadBalancers(c caller, p params) (any, error) {
	names, arns := p.list("Names"), p.list("LoadBalancerArns")
	if len(names) > 0 && len(arns) > 0 {
		return nil, validationError("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	after, size, err := p.paging()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out lbsResult
	switch {
	case len(arns) > 0:
		for _, a := range arns {
			lb, err := s.lbLocked(c, a)
			if err != nil {
				return nil, err
			}
			out.LoadBalancers = append(out.LoadBalancers, lbView(lb))
		}
		return out, nil
	case len(names) > 0:
		for _, n := range names {
			var found *loadBalancer
			for _, lb := range s.lbs {
				if lb.Name == n && c.owns(lb.Account, lb.Region) {
					found = lb
				}
			}
			if found == nil {
				return nil, awsapi.Errorf(http.StatusBadRequest, "LoadBalancerNotFound", "Load balancers '[%s]' not found", n)
			}
			out.LoadBalancers = append(out.LoadBalancers, lbView(found))
		}
		return out, nil
	}
	for _, lb := range s.sortedLBsLocked() {
		if lb.Seq <= after || !c.owns(lb.Account, lb.Region) {
			continue
		}
		if len(out.LoadBalancers) == size {
			out.NextMarker = encodeMarker(s.seqOfLB(out.LoadBalancers[size-1].LoadBalancerArn))
			break
		}
		out.LoadBalancers = append(out.LoadBalancers, lbView(lb))
	}
	return out, nil
}

func (s *Service) seqOfLB(arn string) int64 { return s.lbs[arn].Seq }

func (s *Service) createLoadBalancer(c caller, p params) (any, error) {
	switch t := p.get("Type"); t {
	case "", "application":
	default:
		return nil, validationError("The lab emulates only application load balancers, not '%s'", t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, created, err := s.createLBLocked(c.id.AccountID, c.region, p.get("Name"), p.get("Scheme"), p.list("Subnets"))
	if err != nil {
		return nil, err
	}
	if created {
		s.env.History.Record(c.id, "elbv2", "CreateLoadBalancer", lb.ARN, nil, lb)
	}
	return lbsResult{LoadBalancers: []lbXML{lbView(lb)}}, nil
}

type emptyResult struct{}

func (s *Service) deleteLoadBalancer(c caller, p params) (any, error) {
	arn := p.get("LoadBalancerArn")
	if arn == "" {
		return nil, nullError("loadBalancerArn")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.lbLocked(c, arn)
	if err == errLBNotFound {
		// Deleting a load balancer that is already gone succeeds.
		return emptyResult{}, nil
	}
	if err != nil {
		return nil, err
	}
	before := *lb
	for k, l := range s.listeners {
		if l.LoadBalancer == arn {
			delete(s.listeners, k)
		}
	}
	delete(s.lbs, arn)
	s.env.History.Record(c.id, "elbv2", "DeleteLoadBalancer", arn, before, nil)
	return emptyResult{}, nil
}

// ---- target groups

type matcherXML struct {
	HttpCode string `xml:"HttpCode"`
}

type tgXML struct {
	TargetGroupArn             string     `xml:"TargetGroupArn"`
	TargetGroupName            string     `xml:"TargetGroupName"`
	Protocol                   string     `xml:"Protocol"`
	Port                       int        `xml:"Port"`
	VpcId                      string     `xml:"VpcId"`
	HealthCheckProtocol        string     `xml:"HealthCheckProtocol"`
	HealthCheckPort            string     `xml:"HealthCheckPort"`
	HealthCheckEnabled         bool       `xml:"HealthCheckEnabled"`
	HealthCheckIntervalSeconds int        `xml:"HealthCheckIntervalSeconds"`
	HealthCheckTimeoutSeconds  int        `xml:"HealthCheckTimeoutSeconds"`
	HealthyThresholdCount      int        `xml:"HealthyThresholdCount"`
	UnhealthyThresholdCount    int        `xml:"UnhealthyThresholdCount"`
	HealthCheckPath            string     `xml:"HealthCheckPath"`
	Matcher                    matcherXML `xml:"Matcher"`
	LoadBalancerArns           []string   `xml:"LoadBalancerArns>member"`
	TargetType                 string     `xml:"TargetType"`
	ProtocolVersion            string     `xml:"ProtocolVersion"`
	IpAddressType              string     `xml:"IpAddressType"`
}

func tgView(tg *targetGroup, users map[string][]string) tgXML {
	return tgXML{
		TargetGroupArn: tg.ARN, TargetGroupName: tg.Name, Protocol: tg.Protocol, Port: tg.Port, VpcId: tg.VpcID,
		HealthCheckProtocol: tg.Protocol, HealthCheckPort: "traffic-port", HealthCheckEnabled: true,
		HealthCheckIntervalSeconds: 30, HealthCheckTimeoutSeconds: 5, HealthyThresholdCount: 5, UnhealthyThresholdCount: 2,
		HealthCheckPath: tg.HealthCheckPath, Matcher: matcherXML{HttpCode: "200"}, LoadBalancerArns: append([]string{}, users[tg.ARN]...),
		TargetType: tg.TargetType, ProtocolVersion: "HTTP1", IpAddressType: "ipv4",
	}
}

type tgsResult struct {
	TargetGroups []tgXML `xml:"TargetGroups>member"`
	NextMarker   string  `xml:"NextMarker,omitempty"`
}

func (s *Service) createTargetGroup(c caller, p params) (any, error) {
	port, _, err := p.integer("Port")
	if err != nil {
		return nil, err
	}
	spec := tgSpec{Name: p.get("Name"), Protocol: p.get("Protocol"), Port: port, VpcID: p.get("VpcId"), TargetType: p.get("TargetType"), HealthCheckPath: p.get("HealthCheckPath")}
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, created, err := s.createTGLocked(c.id.AccountID, c.region, spec)
	if err != nil {
		return nil, err
	}
	users := s.usersLocked()
	if created {
		s.env.History.Record(c.id, "elbv2", "CreateTargetGroup", tg.ARN, nil, tgView(tg, users))
	}
	return tgsResult{TargetGroups: []tgXML{tgView(tg, users)}}, nil
}

func (s *Service) describeTargetGroups(c caller, p params) (any, error) {
	lbArn, names, arns := p.get("LoadBalancerArn"), p.list("Names"), p.list("TargetGroupArns")
	after, size, err := p.paging()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	users := s.usersLocked()
	var out tgsResult
	switch {
	case len(arns) > 0:
		for _, a := range arns {
			tg, err := s.tgLocked(c, a)
			if err != nil {
				return nil, err
			}
			out.TargetGroups = append(out.TargetGroups, tgView(tg, users))
		}
		return out, nil
	case len(names) > 0:
		for _, n := range names {
			var found *targetGroup
			for _, tg := range s.tgs {
				if tg.Name == n && c.owns(tg.Account, tg.Region) {
					found = tg
				}
			}
			if found == nil {
				return nil, awsapi.Errorf(http.StatusBadRequest, "TargetGroupNotFound", "Target groups '[%s]' not found", n)
			}
			out.TargetGroups = append(out.TargetGroups, tgView(found, users))
		}
		return out, nil
	}
	if lbArn != "" {
		if _, err := s.lbLocked(c, lbArn); err != nil {
			return nil, err
		}
	}
	for _, tg := range s.sortedTGsLocked() {
		if tg.Seq <= after || !c.owns(tg.Account, tg.Region) {
			continue
		}
		if lbArn != "" && !contains(users[tg.ARN], lbArn) {
			continue
		}
		if len(out.TargetGroups) == size {
			out.NextMarker = encodeMarker(s.tgs[out.TargetGroups[size-1].TargetGroupArn].Seq)
			break
		}
		out.TargetGroups = append(out.TargetGroups, tgView(tg, users))
	}
	return out, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Service) deleteTargetGroup(c caller, p params) (any, error) {
	arn := p.get("TargetGroupArn")
	if arn == "" {
		return nil, nullError("targetGroupArn")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.tgLocked(c, arn)
	if err == errTGNotFound {
		// Like load balancers, deleting a missing target group succeeds.
		return emptyResult{}, nil
	}
	if err != nil {
		return nil, err
	}
	users := s.usersLocked()
	if len(users[arn]) > 0 {
		return nil, awsapi.Errorf(http.StatusBadRequest, "ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", arn)
	}
	before := tgView(tg, users)
	delete(s.tgs, arn)
	s.env.History.Record(c.id, "elbv2", "DeleteTargetGroup", arn, before, nil)
	return emptyResult{}, nil
}

// ---- targets

type targetXML struct {
	Id   string `xml:"Id"`
	Port int    `xml:"Port"`
}

type targetHealthXML struct {
	State       string `xml:"State"`
	Reason      string `xml:"Reason,omitempty"`
	Description string `xml:"Description,omitempty"`
}

type thdXML struct {
	Target          targetXML       `xml:"Target"`
	HealthCheckPort string          `xml:"HealthCheckPort"`
	TargetHealth    targetHealthXML `xml:"TargetHealth"`
}

type targetHealthResult struct {
	TargetHealthDescriptions []thdXML `xml:"TargetHealthDescriptions>member"`
}

func targetsView(tg *targetGroup) []Target {
	var out []Target
	for _, t := range tg.Targets {
		if t.DeregisteredAt.IsZero() {
			out = append(out, Target{ID: t.ID, Port: t.Port})
		}
	}
	return out
}

func (s *Service) registerTargets(c caller, p params) (any, error) {
	targets, err := p.targets()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.tgLocked(c, p.get("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	before := targetsView(tg)
	if err := s.registerLocked(tg, targets, s.env.Clock.Now()); err != nil {
		return nil, err
	}
	s.env.History.Record(c.id, "elbv2", "RegisterTargets", tg.ARN, before, targetsView(tg))
	return emptyResult{}, nil
}

func (s *Service) deregisterTargets(c caller, p params) (any, error) {
	targets, err := p.targets()
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, nullError("targets")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.tgLocked(c, p.get("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	now := s.env.Clock.Now()
	s.pruneLocked(tg, now)
	var found []*target
	var missing []string
	for _, want := range targets {
		port := want.Port
		if port == 0 {
			port = tg.Port
		}
		var hit *target
		for _, t := range tg.Targets {
			if t.ID == want.ID && t.Port == port && t.DeregisteredAt.IsZero() {
				hit = t
			}
		}
		if hit == nil {
			missing = append(missing, fmt.Sprintf("'%s'", want.ID))
			continue
		}
		found = append(found, hit)
	}
	if len(missing) > 0 {
		return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidTarget", "The following targets are not registered in target group '%s': %s", tg.ARN, strings.Join(missing, ", "))
	}
	before := targetsView(tg)
	inUse := len(s.usersLocked()[tg.ARN]) > 0
	for _, t := range found {
		t.DeregisteredAt = now
	}
	if !inUse {
		// Nothing routes to an unused group, so there is nothing to drain.
		s.pruneLocked(tg, now.Add(s.opts.DeregistrationDelay))
	}
	s.env.History.Record(c.id, "elbv2", "DeregisterTargets", tg.ARN, before, targetsView(tg))
	return emptyResult{}, nil
}

func (s *Service) describeTargetHealth(c caller, p params) (any, error) {
	targets, err := p.targets()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.tgLocked(c, p.get("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	now := s.env.Clock.Now()
	inUse := len(s.usersLocked()[tg.ARN]) > 0
	s.pruneLocked(tg, now)
	out := targetHealthResult{TargetHealthDescriptions: []thdXML{}}
	add := func(id string, port int, h Health) {
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, thdXML{
			Target: targetXML{Id: id, Port: port}, HealthCheckPort: strconv.Itoa(port),
			TargetHealth: targetHealthXML{State: h.State, Reason: h.Reason, Description: h.Description},
		})
	}
	if len(targets) == 0 {
		for _, t := range tg.Targets {
			if h, ok := tg.health(t, now, inUse, s.opts.HealthyAfter, s.opts.DeregistrationDelay); ok {
				add(t.ID, t.Port, h)
			}
		}
		return out, nil
	}
	for _, want := range targets {
		if err := checkTargetID(tg.TargetType, want.ID); err != nil {
			return nil, err
		}
		matched := false
		for _, t := range tg.Targets {
			if t.ID != want.ID || (want.Port != 0 && t.Port != want.Port) {
				continue
			}
			if h, ok := tg.health(t, now, inUse, s.opts.HealthyAfter, s.opts.DeregistrationDelay); ok {
				add(t.ID, t.Port, h)
				matched = true
			}
		}
		if !matched {
			port := want.Port
			if port == 0 {
				port = tg.Port
			}
			add(want.ID, port, describe(StateUnused, "Target.NotRegistered"))
		}
	}
	return out, nil
}

// ---- listeners

type certificateXML struct {
	CertificateArn string `xml:"CertificateArn"`
}

type tgTupleXML struct {
	TargetGroupArn string `xml:"TargetGroupArn"`
	Weight         int    `xml:"Weight"`
}

type forwardXML struct {
	TargetGroups []tgTupleXML `xml:"TargetGroups>member"`
}

type actionXML struct {
	Type           string     `xml:"Type"`
	TargetGroupArn string     `xml:"TargetGroupArn"`
	Order          int        `xml:"Order"`
	ForwardConfig  forwardXML `xml:"ForwardConfig"`
}

type listenerXML struct {
	ListenerArn     string           `xml:"ListenerArn"`
	LoadBalancerArn string           `xml:"LoadBalancerArn"`
	Port            int              `xml:"Port"`
	Protocol        string           `xml:"Protocol"`
	Certificates    []certificateXML `xml:"Certificates>member,omitempty"`
	SslPolicy       string           `xml:"SslPolicy,omitempty"`
	DefaultActions  []actionXML      `xml:"DefaultActions>member"`
}

func listenerView(l *listener) listenerXML {
	v := listenerXML{ListenerArn: l.ARN, LoadBalancerArn: l.LoadBalancer, Port: l.Port, Protocol: l.Protocol}
	for _, c := range l.CertificateARN {
		v.Certificates = append(v.Certificates, certificateXML{CertificateArn: c})
	}
	if l.Protocol == "HTTPS" {
		v.SslPolicy = "ELBSecurityPolicy-2016-08"
	}
	v.DefaultActions = []actionXML{{Type: "forward", TargetGroupArn: l.TargetGroup, Order: 1,
		ForwardConfig: forwardXML{TargetGroups: []tgTupleXML{{TargetGroupArn: l.TargetGroup, Weight: 1}}}}}
	return v
}

type listenersResult struct {
	Listeners  []listenerXML `xml:"Listeners>member"`
	NextMarker string        `xml:"NextMarker,omitempty"`
}

func (s *Service) createListener(c caller, p params) (any, error) {
	port, _, err := p.integer("Port")
	if err != nil {
		return nil, err
	}
	proto := p.get("Protocol")
	switch proto {
	case "HTTP", "HTTPS":
	case "":
		return nil, validationError("A protocol must be specified")
	default:
		return nil, validationError("Protocol '%s' is not supported by application load balancers", proto)
	}
	if port < 1 || port > 65535 {
		return nil, validationError("A port between 1 and 65535 must be specified")
	}
	actType := p.get("DefaultActions.member.1.Type")
	tgArn := p.get("DefaultActions.member.1.TargetGroupArn")
	if tgArn == "" {
		tgArn = p.get("DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn")
	}
	if actType != "forward" || tgArn == "" || p.has("DefaultActions.member.2.Type") {
		return nil, validationError("The lab supports exactly one default action, of type 'forward' to one target group")
	}
	var certs []string
	for i := 1; i <= maxMembers; i++ {
		k := fmt.Sprintf("Certificates.member.%d.CertificateArn", i)
		if !p.has(k) {
			break
		}
		certs = append(certs, p.get(k))
	}
	if proto == "HTTPS" && len(certs) == 0 {
		return nil, validationError("A certificate must be specified for HTTPS listeners")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.lbLocked(c, p.get("LoadBalancerArn"))
	if err != nil {
		return nil, err
	}
	tg, err := s.tgLocked(c, tgArn)
	if err != nil {
		return nil, err
	}
	for _, l := range s.listeners {
		if l.LoadBalancer == lb.ARN && l.Port == port {
			return nil, awsapi.Errorf(http.StatusBadRequest, "DuplicateListener", "A listener already exists on this port for this load balancer '%s'", lb.ARN)
		}
	}
	users := s.usersLocked()
	for _, u := range users[tg.ARN] {
		if u != lb.ARN {
			return nil, awsapi.Errorf(http.StatusBadRequest, "TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", tg.ARN)
		}
	}
	if len(users[tg.ARN]) == 0 {
		tg.InUseSince = s.env.Clock.Now()
	}
	s.seq++
	l := &listener{Seq: s.seq, ARN: listenerARN(lb), LoadBalancer: lb.ARN, Protocol: proto, Port: port, TargetGroup: tg.ARN, CertificateARN: certs}
	s.listeners[l.ARN] = l
	s.env.History.Record(c.id, "elbv2", "CreateListener", l.ARN, nil, listenerView(l))
	return listenersResult{Listeners: []listenerXML{listenerView(l)}}, nil
}

func (s *Service) describeListeners(c caller, p params) (any, error) {
	lbArn, arns := p.get("LoadBalancerArn"), p.list("ListenerArns")
	if (lbArn == "") == (len(arns) == 0) {
		return nil, validationError("You must specify either listener ARNs or a load balancer ARN")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := listenersResult{Listeners: []listenerXML{}}
	if len(arns) > 0 {
		for _, a := range arns {
			l, ok := s.listeners[a]
			if !ok || !c.owns(s.lbs[l.LoadBalancer].Account, s.lbs[l.LoadBalancer].Region) {
				return nil, errListenerNotFound
			}
			out.Listeners = append(out.Listeners, listenerView(l))
		}
		return out, nil
	}
	if _, err := s.lbLocked(c, lbArn); err != nil {
		return nil, err
	}
	for _, l := range s.sortedListenersLocked() {
		if l.LoadBalancer == lbArn {
			out.Listeners = append(out.Listeners, listenerView(l))
		}
	}
	return out, nil
}

func (s *Service) deleteListener(c caller, p params) (any, error) {
	arn := p.get("ListenerArn")
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.listeners[arn]
	if !ok || !c.owns(s.lbs[l.LoadBalancer].Account, s.lbs[l.LoadBalancer].Region) {
		return nil, errListenerNotFound
	}
	before := listenerView(l)
	delete(s.listeners, arn)
	s.env.History.Record(c.id, "elbv2", "DeleteListener", arn, before, nil)
	return emptyResult{}, nil
}
