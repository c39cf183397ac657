package cloudfront

import (
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Namespace is the XML namespace of the 2020-05-31 API.
const Namespace = "http://cloudfront.amazonaws.com/doc/2020-05-31/"

const serviceName = "cloudfront"

// DefaultDeployDelay is how long a change stays InProgress when Options
// does not say otherwise. Real CloudFront takes minutes; the lab is
// compressed so demos stay short.
const DefaultDeployDelay = 5 * time.Second

// CertInfo is what the distribution rules need to know about an ACM
// certificate.
type CertInfo struct {
	AccountID string
	Status    string   // ISSUED, PENDING_VALIDATION, …
	Domains   []string // the domain name and every SAN
}

// Certificates looks certificates up by ARN (the lab's ACM).
type Certificates interface {
	Certificate(arn string) (CertInfo, bool)
}

// DNS answers TXT lookups from the lab's Route 53 served view; AssociateAlias
// reads its `_<alias>` proof through it.
type DNS interface {
	LookupTXT(name string) []string
}

// Options tune the emulator.
type Options struct {
	// DeployDelay is how long after a write a distribution reports
	// Deployed. Zero means DefaultDeployDelay; negative means at once.
	DeployDelay time.Duration
	// DeployJitter adds a random extra delay in [0, DeployJitter) to each
	// write, so two changes made together need not land together.
	DeployJitter time.Duration
	// Certificates resolves ViewerCertificate.ACMCertificateArn. Nil means
	// no certificate exists, so no alias can be attached.
	Certificates Certificates
	// DNS resolves AssociateAlias's TXT proofs. Nil means no record exists.
	DNS DNS
	// Seed makes generated ids reproducible when non-zero.
	Seed uint64
}

type distribution struct {
	ID         string
	Account    string
	DomainName string
	ETag       string
	Config     *node
	cfg        *distConfig
	Tags       *node
	Created    time.Time
	Modified   time.Time
	DeployAt   time.Time
	Version    int64
	// Change identifies the API operation that produced Version; one
	// AssociateAlias changes two distributions under one Change, which
	// every edge applies at the same moment.
	Change uint64
}

type policy struct {
	ID       string
	Account  string
	ETag     string
	Config   *node
	pc       *policyConfig
	Modified time.Time
}

// Service is the emulated CloudFront control plane. It is safe for
// concurrent use.
type Service struct {
	env  awsapi.Env
	opts Options

	mu       sync.Mutex
	changes  uint64
	rng      *rand.Rand
	dists    map[string]*distribution
	order    []string
	policies map[string]*policy
	porder   []string
}

// New returns an empty CloudFront.
func New(env awsapi.Env, opts Options) *Service {
	if env.Clock == nil {
		env.Clock = clock.Real{}
	}
	if env.History == nil {
		env.History = awsapi.NewHistory(env.Clock)
	}
	if opts.DeployDelay == 0 {
		opts.DeployDelay = DefaultDeployDelay
	}
	if opts.DeployDelay < 0 {
		opts.DeployDelay = 0
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &Service{
		env:      env,
		opts:     opts,
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		dists:    map[string]*distribution{},
		policies: map[string]*policy{},
	}
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
)

func (s *Service) randString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (s *Service) newETag() string { return "E" + s.randString(upperAlnum, 13) }

func (s *Service) newUUID() string {
	h := s.randString("0123456789abcdef", 32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func distributionARN(account, id string) string {
	return "arn:aws:cloudfront::" + account + ":distribution/" + id
}

func policyARN(account, id string) string {
	return "arn:aws:cloudfront::" + account + ":continuous-deployment-policy/" + id
}

func (d *distribution) status(now time.Time) string {
	if now.Before(d.DeployAt) {
		return "InProgress"
	}
	return "Deployed"
}

// touch marks an accepted write: a new ETag, a new version for the data
// plane, and InProgress until the deploy delay has passed.
func (s *Service) touch(d *distribution, now time.Time) {
	d.ETag = s.newETag()
	s.redeploy(d, now)
}

// redeploy starts a new deployment without changing the config's ETag
// (an attached policy changed).
func (s *Service) redeploy(d *distribution, now time.Time) {
	s.changes++
	d.Change = s.changes
	d.Version++
	d.Modified = now
	delay := s.opts.DeployDelay
	if s.opts.DeployJitter > 0 {
		delay += time.Duration(s.rng.Int64N(int64(s.opts.DeployJitter)))
	}
	d.DeployAt = now.Add(delay)
}

func errNoSuchDistribution() error {
	return awsapi.Errorf(http.StatusNotFound, "NoSuchDistribution", "The specified distribution does not exist.")
}

func errNoSuchPolicy() error {
	return awsapi.Errorf(http.StatusNotFound, "NoSuchContinuousDeploymentPolicy", "The continuous deployment policy doesn't exist.")
}

func errIllegalUpdate(msg string) error {
	if msg == "" {
		msg = "The update contains modifications that are not allowed."
	}
	return awsapi.Errorf(http.StatusBadRequest, "IllegalUpdate", "%s", msg)
}

// checkIfMatch applies CloudFront's optimistic concurrency: no ETag is a
// client error, a stale one a failed precondition.
func checkIfMatch(got, want string) error {
	got = strings.TrimSpace(got)
	if got == "" {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidIfMatchVersion", "The If-Match version is missing or not valid for the resource.")
	}
	if got != want {
		return awsapi.Errorf(http.StatusPreconditionFailed, "PreconditionFailed", "The request failed because it didn't meet the preconditions in one or more request-header fields.")
	}
	return nil
}

// own returns a distribution of account; distributions of other accounts
// do not exist for the caller.
func (s *Service) own(account, id string) (*distribution, error) {
	d, ok := s.dists[id]
	if !ok || d.Account != account {
		return nil, errNoSuchDistribution()
	}
	return d, nil
}

func (s *Service) ownPolicy(account, id string) (*policy, error) {
	p, ok := s.policies[id]
	if !ok || p.Account != account {
		return nil, errNoSuchPolicy()
	}
	return p, nil
}

// holder returns the distribution, in any account, that has exactly alias.
func (s *Service) holder(alias string) *distribution {
	for _, id := range s.order {
		d := s.dists[id]
		for _, a := range d.cfg.Aliases {
			if a == alias {
				return d
			}
		}
	}
	return nil
}

// certificate returns the ACM certificate usable by account: it must exist
// in that account and be ISSUED.
func (s *Service) certificate(account, arn string) (CertInfo, bool) {
	if s.opts.Certificates == nil || arn == "" {
		return CertInfo{}, false
	}
	c, ok := s.opts.Certificates.Certificate(arn)
	if !ok || c.AccountID != account || c.Status != "ISSUED" {
		return CertInfo{}, false
	}
	return c, true
}

func covered(c CertInfo, alias string) bool {
	for _, dn := range c.Domains {
		if certCovers(dn, alias) {
			return true
		}
	}
	return false
}

// validate applies the rules that span resources: alias ownership across
// every account, certificate coverage, staging and policy links. self is
// the distribution being updated (nil on create).
func (s *Service) validate(account string, cfg *distConfig, self *distribution) error {
	if err := checkAliases(cfg.Aliases); err != nil {
		return err
	}
	if cfg.Staging && len(cfg.Aliases) > 0 {
		return invalidArg("A staging distribution cannot have alternate domain names (CNAMEs).")
	}
	if cfg.CertificateArn != "" || cfg.IAMCertificate != "" {
		if _, ok := s.certificate(account, cfg.CertificateArn); !ok {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidViewerCertificate", msgBadCert)
		}
	}
	if len(cfg.Aliases) > 0 {
		c, ok := s.certificate(account, cfg.CertificateArn)
		if !ok || cfg.DefaultCert {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidViewerCertificate", msgNeedCert)
		}
		for _, a := range cfg.Aliases {
			if !covered(c, a) {
				return awsapi.Errorf(http.StatusBadRequest, "InvalidViewerCertificate", msgNeedCert)
			}
		}
		for _, a := range cfg.Aliases {
			if h := s.holder(a); h != nil && h != self {
				return awsapi.Errorf(http.StatusConflict, "CNAMEAlreadyExists", msgCNAMEExists)
			}
		}
	}
	if cfg.PolicyID != "" {
		if cfg.Staging {
			return invalidArg("A staging distribution cannot have a continuous deployment policy.")
		}
		if _, err := s.ownPolicy(account, cfg.PolicyID); err != nil {
			return err
		}
		for _, id := range s.order {
			d := s.dists[id]
			if d != self && d.cfg.PolicyID == cfg.PolicyID {
				return awsapi.Errorf(http.StatusConflict, "ContinuousDeploymentPolicyInUse", "The continuous deployment policy is associated with another primary distribution.")
			}
		}
	}
	return nil
}

func (s *Service) byCallerRef(account, ref string) *distribution {
	for _, id := range s.order {
		if d := s.dists[id]; d.Account == account && d.cfg.CallerReference == ref {
			return d
		}
	}
	return nil
}

func errDistributionExists() error {
	return awsapi.Errorf(http.StatusConflict, "DistributionAlreadyExists", "The caller reference you attempted to create the distribution with is associated with another distribution.")
}

// insert stores a new distribution with fresh ids.
func (s *Service) insert(account string, t *node, cfg *distConfig, tags *node, now time.Time) *distribution {
	var id string
	for id == "" || s.dists[id] != nil {
		id = "E" + s.randString(upperAlnum, 13)
	}
	d := &distribution{
		ID: id, Account: account, DomainName: "d" + s.randString(lowerAlnum, 13) + ".cloudfront.net",
		Config: t, cfg: cfg, Tags: tags, Created: now,
	}
	s.touch(d, now)
	s.dists[id] = d
	s.order = append(s.order, id)
	return d
}

func (s *Service) createDistribution(caller awsapi.Identity, op string, t, tags *node) (*distribution, error) {
	cfg, err := parseDistConfig(t)
	if err != nil {
		return nil, err
	}
	if cfg.Staging {
		return nil, invalidArg("A staging distribution can only be created with CopyDistribution.")
	}
	if d := s.byCallerRef(caller.AccountID, cfg.CallerReference); d != nil {
		// CloudFront is idempotent on CallerReference for an identical
		// config and refuses a different one.
		if d.Config.String() == t.String() {
			return d, nil
		}
		return nil, errDistributionExists()
	}
	if err := s.validate(caller.AccountID, cfg, nil); err != nil {
		return nil, err
	}
	now := s.env.Clock.Now()
	d := s.insert(caller.AccountID, t, cfg, tags, now)
	s.env.History.Record(caller, serviceName, op, distributionARN(d.Account, d.ID), nil, s.view(d, now))
	return d, nil
}

func (s *Service) updateDistribution(caller awsapi.Identity, id, ifMatch string, t *node) (*distribution, error) {
	d, err := s.own(caller.AccountID, id)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(ifMatch, d.ETag); err != nil {
		return nil, err
	}
	cfg, err := parseDistConfig(t)
	if err != nil {
		return nil, err
	}
	if cfg.CallerReference != d.cfg.CallerReference {
		return nil, errIllegalUpdate("The CallerReference of a distribution cannot be changed.")
	}
	if cfg.Staging != d.cfg.Staging {
		return nil, errIllegalUpdate("The Staging flag of a distribution cannot be changed.")
	}
	if err := s.validate(caller.AccountID, cfg, d); err != nil {
		return nil, err
	}
	now := s.env.Clock.Now()
	before := s.view(d, now)
	d.Config, d.cfg = t, cfg
	s.touch(d, now)
	s.env.History.Record(caller, serviceName, "UpdateDistribution", distributionARN(d.Account, d.ID), before, s.view(d, now))
	return d, nil
}

func (s *Service) deleteDistribution(caller awsapi.Identity, id, ifMatch string) error {
	d, err := s.own(caller.AccountID, id)
	if err != nil {
		return err
	}
	if err := checkIfMatch(ifMatch, d.ETag); err != nil {
		return err
	}
	now := s.env.Clock.Now()
	if d.cfg.Enabled || d.status(now) != "Deployed" {
		return awsapi.Errorf(http.StatusConflict, "DistributionNotDisabled", "The distribution you are trying to delete has not been disabled.")
	}
	for _, p := range s.policies {
		if d.cfg.Staging && p.Account == d.Account && p.pc.StagingDNSNames[0] == d.DomainName {
			return awsapi.Errorf(http.StatusConflict, "ResourceInUse", "The staging distribution is referenced by continuous deployment policy %s.", p.ID)
		}
	}
	before := s.view(d, now)
	delete(s.dists, id)
	for i, x := range s.order {
		if x == id {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	s.env.History.Record(caller, serviceName, "DeleteDistribution", distributionARN(d.Account, d.ID), before, nil)
	return nil
}

// txtProves reports whether the `_<alias>` TXT record names target. For a
// wildcard alias both `_*.example.com` and `_example.com` are accepted.
func (s *Service) txtProves(alias, domain string) bool {
	if s.opts.DNS == nil {
		return false
	}
	names := []string{"_" + alias}
	if rest, ok := strings.CutPrefix(alias, "*."); ok {
		names = append(names, "_"+rest)
	}
	for _, n := range names {
		for _, v := range s.opts.DNS.LookupTXT(n) {
			v = strings.ToLower(strings.TrimSuffix(strings.Trim(strings.TrimSpace(v), `"`), "."))
			if v == domain {
				return true
			}
		}
	}
	return false
}

func (s *Service) associateAlias(caller awsapi.Identity, targetID, alias string) error {
	alias = strings.TrimSuffix(strings.TrimSpace(alias), ".")
	if alias == "" {
		return invalidArg("The parameter Alias is required.")
	}
	if len(targetID) > 25 || len(alias) > 253 {
		return invalidArg("The parameter TargetDistributionId or Alias is too long.")
	}
	t, err := s.own(caller.AccountID, targetID)
	if err != nil {
		return err
	}
	if err := checkAliasSyntax(alias); err != nil {
		return err
	}
	if t.cfg.Staging {
		return errIllegalUpdate("A staging distribution cannot have alternate domain names (CNAMEs).")
	}
	c, ok := s.certificate(caller.AccountID, t.cfg.CertificateArn)
	if !ok || t.cfg.DefaultCert || !covered(c, alias) {
		return invalidArg("The target distribution must have a valid certificate that covers the alias %s.", alias)
	}
	if !s.txtProves(alias, t.DomainName) {
		return errIllegalUpdate("Invalid or missing alias DNS TXT records.")
	}
	src := s.holder(alias)
	if src == t {
		return nil
	}
	if len(t.cfg.Aliases)+1 > maxAliases {
		return awsapi.Errorf(http.StatusBadRequest, "TooManyDistributionCNAMEs", "Your request contains more CNAMEs than are allowed per distribution.")
	}
	if src != nil && src.Account != caller.AccountID && src.cfg.Enabled {
		return errIllegalUpdate("Alias move is not allowed since the source distribution is enabled.")
	}
	now := s.env.Clock.Now()
	if src != nil {
		before := s.view(src, now)
		var rest []string
		for _, a := range src.cfg.Aliases {
			if a != alias {
				rest = append(rest, a)
			}
		}
		src.cfg.Aliases = rest
		setAliases(src.Config, rest)
		s.touch(src, now)
		s.env.History.Record(caller, serviceName, "AssociateAlias", distributionARN(src.Account, src.ID), before, s.view(src, now))
	}
	before := s.view(t, now)
	t.cfg.Aliases = append(append([]string(nil), t.cfg.Aliases...), alias)
	setAliases(t.Config, t.cfg.Aliases)
	s.touch(t, now)
	if src != nil {
		// One operation: the alias leaves one distribution and lands on
		// the other at the same moment on each edge, as AssociateAlias
		// is documented to move it in one call.
		t.Change = src.Change
	}
	s.env.History.Record(caller, serviceName, "AssociateAlias", distributionARN(t.Account, t.ID), before, s.view(t, now))
	return nil
}

func (s *Service) copyDistribution(caller awsapi.Identity, primaryID, ifMatch string, staging bool, callerRef string, enabled *bool) (*distribution, error) {
	p, err := s.own(caller.AccountID, primaryID)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(ifMatch, p.ETag); err != nil {
		return nil, err
	}
	if callerRef == "" {
		return nil, invalidArg("The parameter CallerReference is required.")
	}
	if p.cfg.Staging {
		return nil, invalidArg("A staging distribution cannot be copied.")
	}
	if s.byCallerRef(caller.AccountID, callerRef) != nil {
		return nil, errDistributionExists()
	}
	on := true
	if enabled != nil {
		on = *enabled
	}
	t := p.Config.clone()
	t.set(leaf("CallerReference", callerRef), configOrder)
	t.set(leaf("Enabled", boolText(on)), configOrder)
	t.set(leaf("Staging", boolText(staging)), configOrder)
	t.remove("ContinuousDeploymentPolicyId")
	// An alias lives on one distribution only, so a copy starts without any.
	setAliases(t, nil)
	cfg, err := parseDistConfig(t)
	if err != nil {
		return nil, err
	}
	if err := s.validate(caller.AccountID, cfg, nil); err != nil {
		return nil, err
	}
	now := s.env.Clock.Now()
	d := s.insert(caller.AccountID, t, cfg, nil, now)
	s.env.History.Record(caller, serviceName, "CopyDistribution", distributionARN(d.Account, d.ID), nil, s.view(d, now))
	return d, nil
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// policyForStaging returns the policy, other than except, whose staging
// name is the staging distribution d.
func (s *Service) policyForStaging(d *distribution, except *policy) *policy {
	for _, id := range s.porder {
		p := s.policies[id]
		if p != except && p.Account == d.Account && p.pc.StagingDNSNames[0] == d.DomainName {
			return p
		}
	}
	return nil
}

func (s *Service) promote(caller awsapi.Identity, primaryID, stagingID, ifMatch string) (*distribution, error) {
	p, err := s.own(caller.AccountID, primaryID)
	if err != nil {
		return nil, err
	}
	if stagingID == "" {
		return nil, invalidArg("The parameter StagingDistributionId is required.")
	}
	st, err := s.own(caller.AccountID, stagingID)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(ifMatch, ",")
	if len(parts) != 2 || strings.TrimSpace(parts[0]) == "" || strings.TrimSpace(parts[1]) == "" {
		return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidIfMatchVersion", "The If-Match version is missing or not valid for the resource.")
	}
	if err := checkIfMatch(parts[0], p.ETag); err != nil {
		return nil, err
	}
	if err := checkIfMatch(parts[1], st.ETag); err != nil {
		return nil, err
	}
	if !st.cfg.Staging {
		return nil, invalidArg("The distribution %s is not a staging distribution.", st.ID)
	}
	pol := s.policies[p.cfg.PolicyID]
	if pol == nil || pol.pc.StagingDNSNames[0] != st.DomainName {
		return nil, invalidArg("The staging distribution %s is not attached to the primary distribution %s through its continuous deployment policy.", st.ID, p.ID)
	}
	// The staging config replaces the primary's, except what identifies
	// the primary: its aliases, its policy and its caller reference.
	t := st.Config.clone()
	t.set(leaf("CallerReference", p.cfg.CallerReference), configOrder)
	t.set(leaf("Staging", "false"), configOrder)
	t.set(leaf("ContinuousDeploymentPolicyId", p.cfg.PolicyID), configOrder)
	setAliases(t, p.cfg.Aliases)
	cfg, err := parseDistConfig(t)
	if err != nil {
		return nil, err
	}
	if err := s.validate(caller.AccountID, cfg, p); err != nil {
		return nil, err
	}
	now := s.env.Clock.Now()
	before := s.view(p, now)
	p.Config, p.cfg = t, cfg
	s.touch(p, now)
	s.env.History.Record(caller, serviceName, "UpdateDistributionWithStagingConfig", distributionARN(p.Account, p.ID), before, s.view(p, now))
	// Promotion disables the policy: all traffic returns to the primary.
	if pol.pc.Enabled {
		pbefore := s.policyView(pol)
		pol.Config.set(leaf("Enabled", "false"), []string{"StagingDistributionDnsNames", "Enabled", "TrafficConfig"})
		pol.pc.Enabled = false
		pol.ETag = s.newETag()
		pol.Modified = now
		s.env.History.Record(caller, serviceName, "UpdateDistributionWithStagingConfig", policyARN(pol.Account, pol.ID), pbefore, s.policyView(pol))
	}
	return p, nil
}

// checkPolicyStaging checks that a policy names a staging distribution of
// account that no other policy (but self) already uses.
func (s *Service) checkPolicyStaging(account string, pc *policyConfig, self *policy) error {
	var st *distribution
	for _, id := range s.order {
		d := s.dists[id]
		if d.Account == account && d.DomainName == pc.StagingDNSNames[0] {
			st = d
		}
	}
	if st == nil || !st.cfg.Staging {
		return invalidArg("The domain name %s is not the domain name of a staging distribution in this account.", pc.StagingDNSNames[0])
	}
	if s.policyForStaging(st, self) != nil {
		return awsapi.Errorf(http.StatusConflict, "StagingDistributionInUse", "A continuous deployment policy for this staging distribution already exists.")
	}
	return nil
}

// maxPolicies is the per-account quota of continuous deployment policies.
const maxPolicies = 20

func (s *Service) createPolicy(caller awsapi.Identity, t *node) (*policy, error) {
	pc, err := parsePolicyConfig(t)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, p := range s.policies {
		if p.Account == caller.AccountID {
			n++
		}
	}
	if n >= maxPolicies {
		return nil, awsapi.Errorf(http.StatusBadRequest, "TooManyContinuousDeploymentPolicies", "You have reached the maximum number of continuous deployment policies for this AWS account.")
	}
	if err := s.checkPolicyStaging(caller.AccountID, pc, nil); err != nil {
		return nil, err
	}
	now := s.env.Clock.Now()
	p := &policy{ID: s.newUUID(), Account: caller.AccountID, ETag: s.newETag(), Config: t, pc: pc, Modified: now}
	s.policies[p.ID] = p
	s.porder = append(s.porder, p.ID)
	s.env.History.Record(caller, serviceName, "CreateContinuousDeploymentPolicy", policyARN(p.Account, p.ID), nil, s.policyView(p))
	return p, nil
}

func (s *Service) updatePolicy(caller awsapi.Identity, id, ifMatch string, t *node) (*policy, error) {
	p, err := s.ownPolicy(caller.AccountID, id)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(ifMatch, p.ETag); err != nil {
		return nil, err
	}
	pc, err := parsePolicyConfig(t)
	if err != nil {
		return nil, err
	}
	if err := s.checkPolicyStaging(caller.AccountID, pc, p); err != nil {
		return nil, err
	}
	now := s.env.Clock.Now()
	before := s.policyView(p)
	p.Config, p.pc, p.ETag, p.Modified = t, pc, s.newETag(), now
	s.env.History.Record(caller, serviceName, "UpdateContinuousDeploymentPolicy", policyARN(p.Account, p.ID), before, s.policyView(p))
	// The primary's edges must learn the new split: a new deployment of
	// the primary, with its config (and ETag) unchanged.
	for _, did := range s.order {
		if d := s.dists[did]; d.Account == p.Account && d.cfg.PolicyID == p.ID {
			s.redeploy(d, now)
		}
	}
	return p, nil
}

func (s *Service) deletePolicy(caller awsapi.Identity, id, ifMatch string) error {
	p, err := s.ownPolicy(caller.AccountID, id)
	if err != nil {
		return err
	}
	if err := checkIfMatch(ifMatch, p.ETag); err != nil {
		return err
	}
	for _, did := range s.order {
		if d := s.dists[did]; d.Account == p.Account && d.cfg.PolicyID == p.ID {
			return awsapi.Errorf(http.StatusConflict, "ContinuousDeploymentPolicyInUse", "You cannot delete a continuous deployment policy that is associated with a primary distribution.")
		}
	}
	before := s.policyView(p)
	delete(s.policies, id)
	for i, x := range s.porder {
		if x == id {
			s.porder = append(s.porder[:i], s.porder[i+1:]...)
			break
		}
	}
	s.env.History.Record(caller, serviceName, "DeleteContinuousDeploymentPolicy", policyARN(p.Account, p.ID), before, nil)
	return nil
}

// conflict is one entry of ListConflictingAliases, ids already masked.
type conflict struct {
	Alias, DistributionID, AccountID string
}

func (s *Service) conflictingAliases(caller awsapi.Identity, distID, alias string) ([]conflict, error) {
	alias = strings.TrimSuffix(strings.TrimSpace(alias), ".")
	if distID == "" || alias == "" {
		return nil, invalidArg("The parameters DistributionId and Alias are required.")
	}
	if len(distID) > 25 || len(alias) > 253 {
		return nil, invalidArg("The parameter DistributionId or Alias is too long.")
	}
	d, err := s.own(caller.AccountID, distID)
	if err != nil {
		return nil, err
	}
	if err := checkAliasSyntax(alias); err != nil {
		return nil, err
	}
	c, ok := s.certificate(caller.AccountID, d.cfg.CertificateArn)
	if !ok || d.cfg.DefaultCert || !covered(c, alias) {
		return nil, invalidArg("The distribution %s does not have a valid certificate that covers the alias %s.", distID, alias)
	}
	wild := strings.HasPrefix(alias, "*.")
	var out []conflict
	for _, id := range s.order {
		x := s.dists[id]
		for _, a := range x.cfg.Aliases {
			match := a == alias
			if !wild {
				match = match || aliasCovers(a, alias)
			} else {
				match = match || aliasCovers(alias, a)
			}
			if !match {
				continue
			}
			cf := conflict{Alias: a, DistributionID: x.ID, AccountID: x.Account}
			if x.Account != caller.AccountID {
				cf.DistributionID, cf.AccountID = maskDistributionID(x.ID), maskAccountID(x.Account)
			}
			out = append(out, cf)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Alias < out[j].Alias })
	return out, nil
}
