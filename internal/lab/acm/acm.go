package acm

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Certificate statuses (DescribeCertificate Status).
const (
	StatusPendingValidation  = "PENDING_VALIDATION"
	StatusIssued             = "ISSUED"
	StatusInactive           = "INACTIVE"
	StatusExpired            = "EXPIRED"
	StatusValidationTimedOut = "VALIDATION_TIMED_OUT"
	StatusRevoked            = "REVOKED"
	StatusFailed             = "FAILED"
)

var allStatuses = []string{StatusPendingValidation, StatusIssued, StatusInactive, StatusExpired, StatusValidationTimedOut, StatusRevoked, StatusFailed}

// Validation statuses of one domain.
const (
	ValidationPending = "PENDING_VALIDATION"
	ValidationSuccess = "SUCCESS"
)

// Defaults.
const (
	// DefaultValidationTimeout is how long ACM keeps retrying validation.
	DefaultValidationTimeout = 72 * time.Hour
	// DefaultValidity is the lifetime of an ACM-issued certificate (395 days).
	DefaultValidity = 395 * 24 * time.Hour
	// DefaultRegion is where requests without a signed region land, and
	// where Import creates certificates (CloudFront only uses us-east-1).
	DefaultRegion = "us-east-1"
	// MaxDomains is ACM's default quota of names per certificate.
	MaxDomains = 10

	jsonContentType = "application/x-amz-json-1.1"
	targetPrefix    = "CertificateManager."
)

// Resolver is the lab's authoritative DNS as ACM's validator sees it.
// LookupCNAME receives a lowercase fully qualified name with a trailing dot
// and returns the CNAME target served for it, if any.
type Resolver interface {
	LookupCNAME(name string) (string, bool)
}

// Options configures the service.
type Options struct {
	// DNS answers validation lookups. Without it no DNS-validated
	// certificate is ever issued (as with a domain nobody controls).
	DNS Resolver
	// InUse returns the ARNs of the resources using a certificate
	// (distributions, listeners). A certificate in use cannot be deleted.
	InUse func(arn string) []string
	// ValidationTimeout defaults to DefaultValidationTimeout.
	ValidationTimeout time.Duration
	// Validity defaults to DefaultValidity.
	Validity time.Duration
}

// ResourceRecord is a DNS validation record.
type ResourceRecord struct {
	Name  string `json:"Name"`
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// Tag is a certificate tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

// cert is the stored certificate.
type cert struct {
	Seq              int64           `json:"seq"`
	ARN              string          `json:"arn"`
	Account          string          `json:"account"`
	Region           string          `json:"region"`
	DomainName       string          `json:"domain_name"`
	SANs             []string        `json:"sans"` // DomainName first
	Method           string          `json:"method"`
	Type             string          `json:"type"`
	Status           string          `json:"status"`
	Validated        map[string]bool `json:"validated,omitempty"` // by domain
	IdempotencyToken string          `json:"idempotency_token,omitempty"`
	Serial           string          `json:"serial"`
	CreatedAt        time.Time       `json:"created_at"`
	IssuedAt         time.Time       `json:"issued_at,omitzero"`
	NotBefore        time.Time       `json:"not_before,omitzero"`
	NotAfter         time.Time       `json:"not_after,omitzero"`
	Tags             []Tag           `json:"tags,omitempty"`
}

// Service is the ACM emulator. It is safe for concurrent use.
type Service struct {
	env  awsapi.Env
	opts Options

	mu    sync.Mutex
	seq   int64
	certs map[string]*cert // by ARN
}

// New returns an ACM service.
func New(env awsapi.Env, opts Options) *Service {
	if opts.ValidationTimeout <= 0 {
		opts.ValidationTimeout = DefaultValidationTimeout
	}
	if opts.Validity <= 0 {
		opts.Validity = DefaultValidity
	}
	return &Service{env: env, opts: opts, certs: map[string]*cert{}}
}

// ValidationRecord returns the CNAME that proves control of domain for
// account. It is a pure function of both, so the same domain validated
// again in the same account reuses the record already in DNS, as in ACM.
// A wildcard is validated through its base name.
func ValidationRecord(account, domain string) ResourceRecord {
	base := strings.TrimPrefix(strings.ToLower(strings.TrimSuffix(domain, ".")), "*.")
	h := func(salt string) string {
		sum := sha256.Sum256([]byte(salt + "|" + account + "|" + base))
		return hex.EncodeToString(sum[:16])
	}
	return ResourceRecord{Name: "_" + h("name") + "." + base + ".", Type: "CNAME", Value: "_" + h("value") + ".acm-validations.aws."}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func newSerial() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = hex.EncodeToString([]byte{c})
	}
	return strings.Join(parts, ":")
}

// Info is what the data plane and other services need to know about a
// certificate.
type Info struct {
	ARN       string
	AccountID string
	Region    string
	// Status is evaluated at the time of the call.
	Status string
	// Domains is the DomainName followed by the other SANs.
	Domains   []string
	NotBefore time.Time
	NotAfter  time.Time
	// Validation holds the DNS records to publish, one per distinct
	// validation name (nil for certificates not validated by DNS).
	Validation []ResourceRecord
}

// Import adds a certificate for domains (the first is the DomainName) that
// is already ISSUED in account's us-east-1, as one requested and validated
// before the lab started. It returns the ARN.
func (s *Service) Import(account string, domains []string) string {
	return s.ImportWith(account, domains, ImportOptions{})
}

// ImportOptions shape a certificate Import adds.
type ImportOptions struct {
	// Pending leaves the certificate PENDING_VALIDATION, as one requested
	// whose validation records nobody published yet: DescribeCertificate
	// shows no NotBefore/NotAfter, and it is issued once its records are
	// served (or times out after 72 hours), as RequestCertificate's are.
	Pending bool
	// ValidFor, when positive, sets NotAfter that long after now instead of
	// the default validity: a certificate close to expiry.
	ValidFor time.Duration
}

// ImportWith is Import with options.
func (s *Service) ImportWith(account string, domains []string, o ImportOptions) string {
	c := s.importCert(account, domains)
	if o.ValidFor > 0 {
		c.NotAfter = c.NotBefore.Add(o.ValidFor)
	}
	if o.Pending {
		c.Status = StatusPendingValidation
		c.Validated = map[string]bool{}
		c.IssuedAt, c.NotBefore, c.NotAfter = time.Time{}, time.Time{}, time.Time{}
	}
	s.mu.Lock()
	s.seq++
	c.Seq = s.seq
	s.certs[c.ARN] = c
	s.mu.Unlock()
	return c.ARN
}

func (s *Service) importCert(account string, domains []string) *cert {
	now := s.env.Clock.Now().UTC()
	c := &cert{
		ARN:        fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s", DefaultRegion, account, newUUID()),
		Account:    account,
		Region:     DefaultRegion,
		Method:     "DNS",
		Type:       "AMAZON_ISSUED",
		Status:     StatusIssued,
		Validated:  map[string]bool{},
		Serial:     newSerial(),
		CreatedAt:  now,
		IssuedAt:   now,
		NotBefore:  now,
		NotAfter:   now.Add(s.opts.Validity),
		DomainName: "",
	}
	c.SANs = dedupe(domains)
	if len(c.SANs) > 0 {
		c.DomainName = c.SANs[0]
	}
	for _, d := range c.SANs {
		c.Validated[strings.ToLower(d)] = true
	}
	return c
}

// Certificate returns a certificate's current state.
func (s *Service) Certificate(arn string) (Info, bool) {
	s.refresh(arn)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.certs[arn]
	if !ok {
		return Info{}, false
	}
	info := Info{ARN: c.ARN, AccountID: c.Account, Region: c.Region, Status: c.Status, Domains: append([]string(nil), c.SANs...), NotBefore: c.NotBefore, NotAfter: c.NotAfter}
	if c.Method == "DNS" {
		seen := map[string]bool{}
		for _, d := range c.SANs {
			rr := ValidationRecord(c.Account, d)
			if !seen[rr.Name] {
				seen[rr.Name] = true
				info.Validation = append(info.Validation, rr)
			}
		}
	}
	return info, true
}

// Certificates returns every certificate's ARN, oldest first.
func (s *Service) Certificates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.sortedLocked()
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.ARN
	}
	return out
}

func (s *Service) sortedLocked() []*cert {
	list := make([]*cert, 0, len(s.certs))
	for _, c := range s.certs {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Seq < list[j].Seq })
	return list
}

// refresh advances the lazily evaluated state of one certificate (or of all
// when arn is empty): expiry, validation timeout, and DNS validation. DNS
// lookups happen outside the lock, since the resolver belongs to another
// part of the lab that may itself call back into this service.
func (s *Service) refresh(arn string) {
	type probe struct{ arn, domain, name, value string }
	var probes []probe
	s.mu.Lock()
	now := s.env.Clock.Now()
	for _, c := range s.certs {
		if arn != "" && c.ARN != arn {
			continue
		}
		s.timeLocked(c, now)
		if c.Status != StatusPendingValidation || c.Method != "DNS" || s.opts.DNS == nil {
			continue
		}
		for _, d := range c.SANs {
			if !c.Validated[strings.ToLower(d)] {
				rr := ValidationRecord(c.Account, d)
				probes = append(probes, probe{c.ARN, strings.ToLower(d), rr.Name, rr.Value})
			}
		}
	}
	s.mu.Unlock()
	if len(probes) == 0 {
		return
	}
	ok := make([]bool, len(probes))
	for i, p := range probes {
		got, found := s.opts.DNS.LookupCNAME(p.name)
		ok[i] = found && strings.EqualFold(strings.TrimSuffix(got, ".")+".", p.value)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now = s.env.Clock.Now()
	touched := map[string]*cert{}
	for i, p := range probes {
		c, exists := s.certs[p.arn]
		if !exists || c.Status != StatusPendingValidation {
			continue
		}
		if ok[i] {
			c.Validated[p.domain] = true
		}
		touched[c.ARN] = c
	}
	for _, c := range touched {
		s.timeLocked(c, now)
		if c.Status != StatusPendingValidation {
			continue
		}
		all := true
		for _, d := range c.SANs {
			all = all && c.Validated[strings.ToLower(d)]
		}
		if all {
			c.Status = StatusIssued
			c.IssuedAt, c.NotBefore, c.NotAfter = now.UTC(), now.UTC(), now.UTC().Add(s.opts.Validity)
		}
	}
}

// timeLocked applies the transitions that depend on the clock alone.
func (s *Service) timeLocked(c *cert, now time.Time) {
	switch c.Status {
	case StatusPendingValidation:
		if !now.Before(c.CreatedAt.Add(s.opts.ValidationTimeout)) {
			c.Status = StatusValidationTimedOut
		}
	case StatusIssued:
		if !c.NotAfter.IsZero() && !now.Before(c.NotAfter) {
			c.Status = StatusExpired
		}
	}
}

func dedupe(domains []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range domains {
		k := strings.ToLower(d)
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}

// validDomain applies ACM's domain-name pattern: an optional leading "*."
// and at least two LDH labels of 1–63 characters.
func validDomain(d string) bool {
	if len(d) < 1 || len(d) > 253 {
		return false
	}
	d = strings.TrimPrefix(d, "*.")
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) < 1 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			ch := l[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
		}
	}
	return true
}

const domainPattern = `^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$`

var (
	arnPattern   = regexp.MustCompile(`^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate/[\w-]+$`)
	tokenPattern = regexp.MustCompile(`^\w{1,32}$`)
)

func validationException(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

func notFound(arn string) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "Could not find certificate %s.", arn)
}

// lookupLocked finds a certificate the caller may act on, with the errors
// ACM gives for a malformed ARN, another account's certificate, and an
// unknown one.
func (s *Service) lookupLocked(id awsapi.Identity, region, op, arn string) (*cert, error) {
	if len(arn) < 20 || len(arn) > 2048 {
		return nil, validationException("1 validation error detected: Value '%s' at 'certificateArn' failed to satisfy constraint: Member must have length %s", arn, bound(len(arn), 20, 2048))
	}
	if !arnPattern.MatchString(arn) {
		return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidArnException", "String '%s' is not a valid ARN.", arn)
	}
	parts := strings.SplitN(arn, ":", 6)
	if parts[4] != id.AccountID {
		return nil, awsapi.Errorf(http.StatusBadRequest, "AccessDeniedException", "User: %s is not authorized to perform: acm:%s on resource: %s", id.ARN, op, arn)
	}
	c, ok := s.certs[arn]
	if !ok || parts[3] != region {
		return nil, notFound(arn)
	}
	return c, nil
}

func bound(n, lo, hi int) string {
	if n < lo {
		return fmt.Sprintf("greater than or equal to %d", lo)
	}
	return fmt.Sprintf("less than or equal to %d", hi)
}

// ServeHTTP answers one JSON 1.1 request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := s.handle(r)
	if err != nil {
		awsapi.WriteJSONError(w, jsonContentType, false, err)
		return
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("x-amzn-RequestId", awsapi.NewRequestID())
	if out == nil {
		out = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Service) handle(r *http.Request) (any, error) {
	if r.Method != http.MethodPost {
		return nil, awsapi.Errorf(http.StatusBadRequest, "UnknownOperationException", "only POST is supported")
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	if !ok {
		return nil, awsapi.Errorf(http.StatusBadRequest, "UnknownOperationException", "unknown operation %q", target)
	}
	body, err := awsapi.ReadBody(r)
	if err != nil {
		return nil, err
	}
	var named struct{ CertificateArn string }
	_ = json.Unmarshal(body, &named) // the handlers report malformed bodies
	awsapi.NoteCall(r.Context(), op, named.CertificateArn)
	region := DefaultRegion
	if sc, ok := awsapi.ParseScope(r); ok && sc.Region != "" {
		region = sc.Region
	}
	id := awsapi.IdentityFrom(r.Context())
	switch op {
	case "RequestCertificate":
		var in requestCertificateInput
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		return s.requestCertificate(id, region, in)
	case "DescribeCertificate":
		var in arnInput
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		return s.describeCertificate(id, region, in.CertificateArn)
	case "ListCertificates":
		var in listCertificatesInput
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		return s.listCertificates(id, region, in)
	case "DeleteCertificate":
		var in arnInput
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		return nil, s.deleteCertificate(id, region, in.CertificateArn)
	case "AddTagsToCertificate":
		var in tagsInput
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		return nil, s.addTags(id, region, in)
	case "ListTagsForCertificate":
		var in arnInput
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		return s.listTags(id, region, in.CertificateArn)
	default:
		return nil, awsapi.Errorf(http.StatusBadRequest, "UnknownOperationException", "operation %s is not supported by the lab", op)
	}
}

// decode reads a JSON request body; an empty body is an empty object, as
// the SDKs send "{}" for operations without input.
func decode(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return awsapi.Errorf(http.StatusBadRequest, "SerializationException", "the request body could not be decoded: %v", err)
	}
	return nil
}

type requestCertificateInput struct {
	DomainName              string
	SubjectAlternativeNames []string
	ValidationMethod        string
	IdempotencyToken        string
	KeyAlgorithm            string
	Tags                    []Tag
}

type arnInput struct {
	CertificateArn string
}

type tagsInput struct {
	CertificateArn string
	Tags           []Tag
}

type listCertificatesInput struct {
	CertificateStatuses []string
	MaxItems            *int
	NextToken           string
}

// idempotencyWindow is how long RequestCertificate deduplicates on the
// IdempotencyToken.
const idempotencyWindow = time.Hour

func (s *Service) requestCertificate(id awsapi.Identity, region string, in requestCertificateInput) (any, error) {
	if !validDomain(in.DomainName) {
		return nil, validationException("1 validation error detected: Value '%s' at 'domainName' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", in.DomainName, domainPattern)
	}
	for i, d := range in.SubjectAlternativeNames {
		if !validDomain(d) {
			return nil, validationException("1 validation error detected: Value '%s' at 'subjectAlternativeNames.%d.member' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", d, i+1, domainPattern)
		}
	}
	method := in.ValidationMethod
	switch method {
	case "":
		// ACM's default is EMAIL; the SDKs leave it unset unless asked.
		method = "EMAIL"
	case "DNS", "EMAIL":
	default:
		return nil, validationException("1 validation error detected: Value '%s' at 'validationMethod' failed to satisfy constraint: Member must satisfy enum value set: [EMAIL, DNS, HTTP]", method)
	}
	if in.IdempotencyToken != "" && !tokenPattern.MatchString(in.IdempotencyToken) {
		return nil, validationException("1 validation error detected: Value '%s' at 'idempotencyToken' failed to satisfy constraint: Member must satisfy regular expression pattern: \\w+", in.IdempotencyToken)
	}
	sans := dedupe(append([]string{in.DomainName}, in.SubjectAlternativeNames...))
	if len(sans) > MaxDomains {
		return nil, awsapi.Errorf(http.StatusBadRequest, "LimitExceededException", "Cannot request a certificate with more than %d domain names.", MaxDomains)
	}
	for _, t := range in.Tags {
		if t.Key == "" {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidTagException", "tag keys must not be empty")
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Clock.Now().UTC()
	if in.IdempotencyToken != "" {
		for _, c := range s.certs {
			if c.Account == id.AccountID && c.Region == region && c.IdempotencyToken == in.IdempotencyToken && now.Sub(c.CreatedAt) < idempotencyWindow {
				return map[string]string{"CertificateArn": c.ARN}, nil
			}
		}
	}
	s.seq++
	c := &cert{
		Seq:              s.seq,
		ARN:              fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s", region, id.AccountID, newUUID()),
		Account:          id.AccountID,
		Region:           region,
		DomainName:       in.DomainName,
		SANs:             sans,
		Method:           method,
		Type:             "AMAZON_ISSUED",
		Status:           StatusPendingValidation,
		Validated:        map[string]bool{},
		IdempotencyToken: in.IdempotencyToken,
		Serial:           newSerial(),
		CreatedAt:        now,
		Tags:             append([]Tag(nil), in.Tags...),
	}
	s.certs[c.ARN] = c
	s.env.History.Record(id, "acm", "RequestCertificate", c.ARN, nil, s.viewLocked(c, nil))
	return map[string]string{"CertificateArn": c.ARN}, nil
}

// epoch renders a time as JSON 1.1 does: fractional seconds since the epoch.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(fmt.Sprintf("%.3f", float64(t.UnixMilli())/1000)), nil
}

func ts(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

type domainValidation struct {
	DomainName       string          `json:"DomainName"`
	ValidationDomain string          `json:"ValidationDomain"`
	ValidationStatus string          `json:"ValidationStatus,omitempty"`
	ValidationMethod string          `json:"ValidationMethod"`
	ResourceRecord   *ResourceRecord `json:"ResourceRecord,omitempty"`
	ValidationEmails []string        `json:"ValidationEmails,omitempty"`
}

type nameValue struct {
	Name string `json:"Name"`
	OID  string `json:"OID,omitempty"`
}

type certificateDetail struct {
	CertificateArn          string             `json:"CertificateArn"`
	DomainName              string             `json:"DomainName"`
	SubjectAlternativeNames []string           `json:"SubjectAlternativeNames"`
	DomainValidationOptions []domainValidation `json:"DomainValidationOptions,omitempty"`
	Serial                  string             `json:"Serial,omitempty"`
	Subject                 string             `json:"Subject"`
	Issuer                  string             `json:"Issuer,omitempty"`
	CreatedAt               *epoch             `json:"CreatedAt,omitempty"`
	IssuedAt                *epoch             `json:"IssuedAt,omitempty"`
	Status                  string             `json:"Status"`
	NotBefore               *epoch             `json:"NotBefore,omitempty"`
	NotAfter                *epoch             `json:"NotAfter,omitempty"`
	KeyAlgorithm            string             `json:"KeyAlgorithm"`
	SignatureAlgorithm      string             `json:"SignatureAlgorithm,omitempty"`
	InUseBy                 []string           `json:"InUseBy"`
	Type                    string             `json:"Type"`
	KeyUsages               []nameValue        `json:"KeyUsages,omitempty"`
	ExtendedKeyUsages       []nameValue        `json:"ExtendedKeyUsages,omitempty"`
	RenewalEligibility      string             `json:"RenewalEligibility"`
	Options                 map[string]string  `json:"Options"`
}

// viewLocked renders the DescribeCertificate view of c.
func (s *Service) viewLocked(c *cert, inUse []string) certificateDetail {
	d := certificateDetail{
		CertificateArn:          c.ARN,
		DomainName:              c.DomainName,
		SubjectAlternativeNames: append([]string(nil), c.SANs...),
		Subject:                 "CN=" + c.DomainName,
		CreatedAt:               ts(c.CreatedAt),
		Status:                  c.Status,
		KeyAlgorithm:            "RSA_2048",
		InUseBy:                 append([]string{}, inUse...),
		Type:                    c.Type,
		RenewalEligibility:      "INELIGIBLE",
		Options:                 map[string]string{"CertificateTransparencyLoggingPreference": "ENABLED"},
	}
	if len(inUse) > 0 && c.Status == StatusIssued {
		d.RenewalEligibility = "ELIGIBLE"
	}
	if c.Status == StatusIssued || c.Status == StatusExpired {
		d.Serial = c.Serial
		d.Issuer = "Amazon"
		d.SignatureAlgorithm = "SHA256WITHRSA"
		d.IssuedAt, d.NotBefore, d.NotAfter = ts(c.IssuedAt), ts(c.NotBefore), ts(c.NotAfter)
		d.KeyUsages = []nameValue{{Name: "DIGITAL_SIGNATURE"}, {Name: "KEY_ENCIPHERMENT"}}
		d.ExtendedKeyUsages = []nameValue{{Name: "TLS_WEB_SERVER_AUTHENTICATION", OID: "1.3.6.1.5.5.7.3.1"}, {Name: "TLS_WEB_CLIENT_AUTHENTICATION", OID: "1.3.6.1.5.5.7.3.2"}}
	}
	for _, dom := range c.SANs {
		base := strings.TrimPrefix(dom, "*.")
		dv := domainValidation{DomainName: dom, ValidationDomain: base, ValidationMethod: c.Method, ValidationStatus: ValidationPending}
		if c.Validated[strings.ToLower(dom)] {
			dv.ValidationStatus = ValidationSuccess
		} else if c.Status == StatusValidationTimedOut {
			dv.ValidationStatus = "FAILED"
		}
		if c.Method == "DNS" {
			rr := ValidationRecord(c.Account, dom)
			dv.ResourceRecord = &rr
		} else {
			dv.ValidationEmails = []string{"admin@" + base, "administrator@" + base, "hostmaster@" + base, "postmaster@" + base, "webmaster@" + base}
		}
		d.DomainValidationOptions = append(d.DomainValidationOptions, dv)
	}
	return d
}

func (s *Service) inUse(arn string) []string {
	if s.opts.InUse == nil {
		return nil
	}
	out := append([]string(nil), s.opts.InUse(arn)...)
	sort.Strings(out)
	return out
}

func (s *Service) describeCertificate(id awsapi.Identity, region, arn string) (any, error) {
	s.refresh(arn)
	users := s.inUse(arn)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookupLocked(id, region, "DescribeCertificate", arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Certificate": s.viewLocked(c, users)}, nil
}

type summary struct {
	CertificateArn                       string   `json:"CertificateArn"`
	DomainName                           string   `json:"DomainName"`
	SubjectAlternativeNameSummaries      []string `json:"SubjectAlternativeNameSummaries"`
	HasAdditionalSubjectAlternativeNames bool     `json:"HasAdditionalSubjectAlternativeNames"`
	Status                               string   `json:"Status"`
	Type                                 string   `json:"Type"`
	KeyAlgorithm                         string   `json:"KeyAlgorithm"`
	InUse                                bool     `json:"InUse"`
	RenewalEligibility                   string   `json:"RenewalEligibility"`
	CreatedAt                            *epoch   `json:"CreatedAt,omitempty"`
	IssuedAt                             *epoch   `json:"IssuedAt,omitempty"`
	NotBefore                            *epoch   `json:"NotBefore,omitempty"`
	NotAfter                             *epoch   `json:"NotAfter,omitempty"`
}

const defaultPageSize = 1000

func (s *Service) listCertificates(id awsapi.Identity, region string, in listCertificatesInput) (any, error) {
	statuses := map[string]bool{}
	for _, st := range in.CertificateStatuses {
		valid := false
		for _, a := range allStatuses {
			valid = valid || a == st
		}
		if !valid {
			return nil, validationException("1 validation error detected: Value '[%s]' at 'certificateStatuses' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [%s]]", strings.Join(in.CertificateStatuses, ", "), strings.Join(allStatuses, ", "))
		}
		statuses[st] = true
	}
	limit := defaultPageSize
	if in.MaxItems != nil {
		if *in.MaxItems < 1 || *in.MaxItems > 1000 {
			return nil, validationException("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value %s", *in.MaxItems, valueBound(*in.MaxItems, 1, 1000))
		}
		limit = *in.MaxItems
	}
	var after int64
	if in.NextToken != "" {
		n, ok := decodeToken(in.NextToken)
		if !ok {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidArgsException", "The NextToken is not valid.")
		}
		after = n
	}
	s.refresh("")
	s.mu.Lock()
	var page []*cert
	next := ""
	for _, c := range s.sortedLocked() {
		if c.Seq <= after || c.Account != id.AccountID || c.Region != region {
			continue
		}
		if len(statuses) > 0 && !statuses[c.Status] {
			continue
		}
		if len(page) == limit {
			next = encodeToken(page[len(page)-1].Seq)
			break
		}
		page = append(page, c)
	}
	s.mu.Unlock()
	out := make([]summary, 0, len(page))
	for _, c := range page {
		sm := summary{
			CertificateArn: c.ARN, DomainName: c.DomainName, SubjectAlternativeNameSummaries: append([]string(nil), c.SANs...),
			Status: c.Status, Type: c.Type, KeyAlgorithm: "RSA_2048", InUse: len(s.inUse(c.ARN)) > 0, RenewalEligibility: "INELIGIBLE",
			CreatedAt: ts(c.CreatedAt), IssuedAt: ts(c.IssuedAt), NotBefore: ts(c.NotBefore), NotAfter: ts(c.NotAfter),
		}
		out = append(out, sm)
	}
	resp := map[string]any{"CertificateSummaryList": out}
	if next != "" {
		resp["NextToken"] = next
	}
	return resp, nil
}

func valueBound(n, lo, hi int) string {
	if n < lo {
		return fmt.Sprintf("greater than or equal to %d", lo)
	}
	return fmt.Sprintf("less than or equal to %d", hi)
}

// Page tokens are opaque to clients; inside they name the last sequence
// number returned, so deleting certificates between pages skips nothing.
func encodeToken(seq int64) string { return fmt.Sprintf("lab-acm-%020d", seq) }

func decodeToken(tok string) (int64, bool) {
	var n int64
	if _, err := fmt.Sscanf(tok, "lab-acm-%020d", &n); err != nil || encodeToken(n) != tok {
		return 0, false
	}
	return n, true
}

func (s *Service) deleteCertificate(id awsapi.Identity, region, arn string) error {
	s.refresh(arn)
	users := s.inUse(arn)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookupLocked(id, region, "DeleteCertificate", arn)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return awsapi.Errorf(http.StatusBadRequest, "ResourceInUseException", "Certificate %s is in use.", arn)
	}
	before := s.viewLocked(c, nil)
	delete(s.certs, arn)
	s.env.History.Record(id, "acm", "DeleteCertificate", arn, before, nil)
	return nil
}

func (s *Service) addTags(id awsapi.Identity, region string, in tagsInput) error {
	if len(in.Tags) == 0 {
		return validationException("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	for _, t := range in.Tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidTagException", "tag %q is not valid", t.Key)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookupLocked(id, region, "AddTagsToCertificate", in.CertificateArn)
	if err != nil {
		return err
	}
	before := append([]Tag(nil), c.Tags...)
	for _, t := range in.Tags {
		replaced := false
		for i := range c.Tags {
			if c.Tags[i].Key == t.Key {
				c.Tags[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			c.Tags = append(c.Tags, t)
		}
	}
	if len(c.Tags) > 50 {
		c.Tags = before
		return awsapi.Errorf(http.StatusBadRequest, "TooManyTagsException", "the certificate would have more than 50 tags")
	}
	s.env.History.Record(id, "acm", "AddTagsToCertificate", c.ARN, map[string]any{"Tags": before}, map[string]any{"Tags": c.Tags})
	return nil
}

func (s *Service) listTags(id awsapi.Identity, region, arn string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookupLocked(id, region, "ListTagsForCertificate", arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Tags": append([]Tag{}, c.Tags...)}, nil
}

type snapshot struct {
	Seq   int64   `json:"seq"`
	Certs []*cert `json:"certificates"`
}

// Snapshot returns every certificate.
func (s *Service) Snapshot() (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(snapshot{Seq: s.seq, Certs: s.sortedLocked()})
	if err != nil {
		return nil, fmt.Errorf("encoding acm snapshot: %w", err)
	}
	return b, nil
}

// Restore replaces every certificate with a snapshot's.
func (s *Service) Restore(raw json.RawMessage) error {
	var snap snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return fmt.Errorf("decoding acm snapshot: %w", err)
	}
	certs := map[string]*cert{}
	for _, c := range snap.Certs {
		if c == nil || !arnPattern.MatchString(c.ARN) {
			return fmt.Errorf("restoring acm snapshot: invalid certificate entry")
		}
		if c.Validated == nil {
			c.Validated = map[string]bool{}
		}
		if c.Seq > snap.Seq {
			snap.Seq = c.Seq
		}
		certs[c.ARN] = c
	}
	s.mu.Lock()
	s.certs, s.seq = certs, snap.Seq
	s.mu.Unlock()
	return nil
}
