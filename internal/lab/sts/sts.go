package sts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Namespace is the XML namespace of every STS response.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// apiVersion is the only query-protocol version STS accepts.
const apiVersion = "2011-06-15"

// Session limits from the AssumeRole model: DurationSeconds is 900–43200,
// a role's maximum session defaults to one hour, and a session assumed from
// another assumed-role session (role chaining) never lasts more than an hour.
const (
	MinDuration      = 15 * time.Minute
	MaxDuration      = 12 * time.Hour
	DefaultDuration  = time.Hour
	chainingDuration = time.Hour
)

// Role is an IAM role callers may assume.
type Role struct {
	// ARN is arn:aws:iam::<account>:role/[path/]<name>.
	ARN string `json:"arn"`
	// TrustedAccounts lists who may assume the role: account ids
	// ("111111111111"), account roots ("arn:aws:iam::111111111111:root"),
	// principal ARNs (users, roles; a role entry admits every session of that
	// role), or "*" for anyone.
	TrustedAccounts []string `json:"trusted_accounts"`
	// ExternalID, when set, must be sent as ExternalId by every caller.
	ExternalID string `json:"external_id,omitempty"`
	// MaxSessionDuration caps DurationSeconds; zero means one hour, the IAM
	// default.
	MaxSessionDuration time.Duration `json:"max_session_duration,omitempty"`
}

// Options configures the service.
type Options struct {
	// Roles are created at start, as if AddRole were called for each.
	Roles []Role
}

// Service is the STS emulator. It is safe for concurrent use.
type Service struct {
	env awsapi.Env

	mu       sync.Mutex
	roles    map[string]Role // by ARN
	sessions map[string]session
}

// session is a minted temporary credential, kept so a snapshot can restore
// the keys clients may still be holding.
type session struct {
	AccessKeyID     string          `json:"access_key_id"`
	SecretAccessKey string          `json:"secret_access_key"`
	SessionToken    string          `json:"session_token"`
	Expires         time.Time       `json:"expires"`
	Identity        awsapi.Identity `json:"identity"`
}

// New returns an STS service using env's clock and keyring.
func New(env awsapi.Env, opts Options) *Service {
	s := &Service{env: env, roles: map[string]Role{}, sessions: map[string]session{}}
	for _, r := range opts.Roles {
		// A bad role in Options is a programming error in the seed; keep
		// the good ones rather than refusing to start.
		_ = s.AddRole(r)
	}
	return s
}

var roleARN = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)

// parseRoleARN returns the account and name of a role ARN.
func parseRoleARN(arn string) (account, name string, ok bool) {
	m := roleARN.FindStringSubmatch(arn)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// AddRole creates or replaces a role.
func (s *Service) AddRole(r Role) error {
	if _, _, ok := parseRoleARN(r.ARN); !ok {
		return fmt.Errorf("adding role: %q is not an IAM role ARN", r.ARN)
	}
	if r.MaxSessionDuration != 0 && (r.MaxSessionDuration < time.Hour || r.MaxSessionDuration > MaxDuration) {
		return fmt.Errorf("adding role %s: max session duration %s is outside 1h–12h", r.ARN, r.MaxSessionDuration)
	}
	r.TrustedAccounts = append([]string(nil), r.TrustedAccounts...)
	s.mu.Lock()
	s.roles[r.ARN] = r
	s.mu.Unlock()
	return nil
}

// Roles returns the roles, sorted by ARN.
func (s *Service) Roles() []Role {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Role, 0, len(s.roles))
	for _, r := range s.roles {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

// ServeHTTP answers one query-protocol request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	awsapi.ServeQuery(w, r, Namespace, apiVersion, func(action string, params url.Values) (any, error) {
		// AssumeRole is authorized on the role; GetCallerIdentity needs no
		// permission at all.
		awsapi.NoteCall(r.Context(), action, params.Get("RoleArn"))
		id := awsapi.IdentityFrom(r.Context())
		switch action {
		case "GetCallerIdentity":
			return callerIdentity(id), nil
		case "AssumeRole":
			return s.assumeRole(id, params)
		}
		return nil, awsapi.ErrUnknownAction(action, apiVersion)
	})
}

type getCallerIdentityResult struct {
	UserId  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

func callerIdentity(id awsapi.Identity) getCallerIdentityResult {
	return getCallerIdentityResult{UserId: id.UserID, Account: id.AccountID, Arn: id.ARN}
}

type credentialsXML struct {
	AccessKeyId     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumedRoleUserXML struct {
	AssumedRoleId string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials     credentialsXML     `xml:"Credentials"`
	AssumedRoleUser assumedRoleUserXML `xml:"AssumedRoleUser"`
	SourceIdentity  string             `xml:"SourceIdentity,omitempty"`
}

var (
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
)

func validationError(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

// AssumeRoleInput is the Go form of an AssumeRole request.
type AssumeRoleInput struct {
	RoleARN         string
	RoleSessionName string
	// Duration zero means one hour.
	Duration   time.Duration
	ExternalID string
}

// AssumeRoleOutput is a minted session.
type AssumeRoleOutput struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	AssumedRoleID   string
	AssumedRoleARN  string
}

func (s *Service) assumeRole(caller awsapi.Identity, p url.Values) (any, error) {
	in := AssumeRoleInput{RoleARN: p.Get("RoleArn"), RoleSessionName: p.Get("RoleSessionName"), ExternalID: p.Get("ExternalId")}
	if _, present := p["ExternalId"]; present && in.ExternalID == "" {
		// An empty ExternalId is sent, and fails the length constraint.
		return nil, validationError("1 validation error detected: Value '' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2")
	}
	if ds := p.Get("DurationSeconds"); ds != "" {
		n, err := strconv.ParseInt(ds, 10, 32)
		if err != nil {
			return nil, validationError("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be an integer", ds)
		}
		if n < int64(MinDuration/time.Second) {
			return nil, validationError("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", n)
		}
		if n > int64(MaxDuration/time.Second) {
			return nil, validationError("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", n)
		}
		in.Duration = time.Duration(n) * time.Second
	}
	out, err := s.AssumeRole(caller, in)
	if err != nil {
		return nil, err
	}
	return assumeRoleResult{
		Credentials: credentialsXML{
			AccessKeyId:     out.AccessKeyID,
			SecretAccessKey: out.SecretAccessKey,
			SessionToken:    out.SessionToken,
			Expiration:      out.Expiration.UTC().Format(time.RFC3339),
		},
		AssumedRoleUser: assumedRoleUserXML{AssumedRoleId: out.AssumedRoleID, Arn: out.AssumedRoleARN},
	}, nil
}

// AssumeRole is the Go API behind the AssumeRole action: caller assumes
// in.RoleARN. Errors are *awsapi.Error values carrying the code AWS answers
// with.
func (s *Service) AssumeRole(caller awsapi.Identity, in AssumeRoleInput) (AssumeRoleOutput, error) {
	if n := len(in.RoleARN); n < 20 || n > 2048 {
		return AssumeRoleOutput{}, validationError("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length %s", in.RoleARN, lengthBound(n, 20, 2048))
	}
	if n := len(in.RoleSessionName); n < 2 || n > 64 {
		return AssumeRoleOutput{}, validationError("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length %s", in.RoleSessionName, lengthBound(n, 2, 64))
	}
	if !sessionNamePattern.MatchString(in.RoleSessionName) {
		return AssumeRoleOutput{}, validationError("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", in.RoleSessionName)
	}
	if in.ExternalID != "" {
		if n := len(in.ExternalID); n < 2 || n > 1224 {
			return AssumeRoleOutput{}, validationError("1 validation error detected: Value '%s' at 'externalId' failed to satisfy constraint: Member must have length %s", in.ExternalID, lengthBound(n, 2, 1224))
		}
		if !externalIDPattern.MatchString(in.ExternalID) {
			return AssumeRoleOutput{}, validationError("1 validation error detected: Value '%s' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*", in.ExternalID)
		}
	}
	if in.Duration == 0 {
		in.Duration = DefaultDuration
	}
	if in.Duration < MinDuration || in.Duration > MaxDuration {
		return AssumeRoleOutput{}, validationError("DurationSeconds must be between 900 and 43200")
	}
	account, name, ok := parseRoleARN(in.RoleARN)
	if !ok {
		return AssumeRoleOutput{}, validationError("Request ARN is invalid")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	role, exists := s.roles[in.RoleARN]
	// A missing role, an untrusted caller and a wrong ExternalId look the
	// same from outside: AWS never tells a caller which one it was.
	if !exists || !trusts(role, caller) || (role.ExternalID != "" && role.ExternalID != in.ExternalID) {
		return AssumeRoleOutput{}, awsapi.Errorf(http.StatusForbidden, "AccessDenied",
			"User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, in.RoleARN)
	}
	maxSession := role.MaxSessionDuration
	if maxSession == 0 {
		maxSession = DefaultDuration
	}
	if isAssumedRole(caller.ARN) && in.Duration > chainingDuration {
		return AssumeRoleOutput{}, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if in.Duration > maxSession {
		return AssumeRoleOutput{}, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	now := s.env.Clock.Now().UTC()
	roleID := roleUniqueID(in.RoleARN)
	out := AssumeRoleOutput{
		AccessKeyID:     "ASIA" + randomToken(16, upperAlnum),
		SecretAccessKey: randomToken(40, secretAlphabet),
		SessionToken:    sessionToken(),
		// AWS reports whole seconds; truncating keeps the keyring and the
		// client agreeing on the instant the key stops working.
		Expiration:     now.Add(in.Duration).Truncate(time.Second),
		AssumedRoleID:  roleID + ":" + in.RoleSessionName,
		AssumedRoleARN: "arn:aws:sts::" + account + ":assumed-role/" + name + "/" + in.RoleSessionName,
	}
	ident := awsapi.Identity{AccountID: account, ARN: out.AssumedRoleARN, UserID: out.AssumedRoleID, AccessKeyID: out.AccessKeyID}
	sess := session{AccessKeyID: out.AccessKeyID, SecretAccessKey: out.SecretAccessKey, SessionToken: out.SessionToken, Expires: out.Expiration, Identity: ident}
	s.sessions[sess.AccessKeyID] = sess
	s.pruneLocked(now)
	s.env.Keys.Add(awsapi.Credential{
		AccessKeyID:     sess.AccessKeyID,
		SecretAccessKey: sess.SecretAccessKey,
		SessionToken:    sess.SessionToken,
		Expires:         sess.Expires,
		Identity:        ident,
	})
	// The history is readable by tests and dashboards: the key id is an
	// identifier, the secret and the session token never leave the keyring.
	s.env.History.Record(caller, "sts", "AssumeRole", in.RoleARN, nil, map[string]any{
		"assumed_role_arn": out.AssumedRoleARN,
		"assumed_role_id":  out.AssumedRoleID,
		"access_key_id":    out.AccessKeyID,
		"expiration":       out.Expiration,
	})
	return out, nil
}

// pruneLocked forgets expired sessions so a long-running lab does not grow
// without bound; the keyring refuses them anyway.
func (s *Service) pruneLocked(now time.Time) {
	for k, v := range s.sessions {
		if !now.Before(v.Expires) {
			delete(s.sessions, k)
		}
	}
}

func lengthBound(n, lo, hi int) string {
	if n < lo {
		return fmt.Sprintf("greater than or equal to %d", lo)
	}
	return fmt.Sprintf("less than or equal to %d", hi)
}

// isAssumedRole reports whether arn names an assumed-role session, the mark
// of role chaining when such a caller assumes another role.
func isAssumedRole(arn string) bool {
	return strings.HasPrefix(arn, "arn:aws:sts::") && strings.Contains(arn, ":assumed-role/")
}

// trusts evaluates the role's trust list against the caller.
func trusts(role Role, caller awsapi.Identity) bool {
	for _, t := range role.TrustedAccounts {
		switch {
		case t == "*":
			return true
		case t == caller.AccountID:
			return true
		case t == "arn:aws:iam::"+caller.AccountID+":root":
			return true
		case t == caller.ARN:
			return true
		case isAssumedRole(caller.ARN):
			// A trusted role admits each of its sessions:
			// arn:aws:sts::A:assumed-role/R/S is a session of
			// arn:aws:iam::A:role/[path/]R.
			acct, rname, ok := parseRoleARN(t)
			if ok && acct == caller.AccountID && strings.HasPrefix(caller.ARN, "arn:aws:sts::"+acct+":assumed-role/"+rname+"/") {
				return true
			}
		}
	}
	return false
}

// roleUniqueID derives a stable AROA… id from the role ARN, as IAM gives
// each role one unique id for its lifetime.
func roleUniqueID(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	var b strings.Builder
	b.WriteString("AROA")
	for i := 0; i < 17; i++ {
		b.WriteByte(upperAlnum[int(sum[i])%len(upperAlnum)])
	}
	return b.String()
}

const (
	upperAlnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func randomToken(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func sessionToken() string {
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	return "IQoJb3JpZ2luX2VjE" + base64.StdEncoding.EncodeToString(b)
}

type snapshot struct {
	Roles    []Role    `json:"roles"`
	Sessions []session `json:"sessions,omitempty"`
}

// Snapshot returns the roles and the unexpired sessions. Sessions include
// their secrets so a restored lab keeps honouring keys clients still hold;
// the snapshot is lab state, not an audit record.
func (s *Service) Snapshot() (json.RawMessage, error) {
	s.mu.Lock()
	s.pruneLocked(s.env.Clock.Now())
	snap := snapshot{Roles: make([]Role, 0, len(s.roles))}
	for _, r := range s.roles {
		snap.Roles = append(snap.Roles, r)
	}
	for _, v := range s.sessions {
		snap.Sessions = append(snap.Sessions, v)
	}
	s.mu.Unlock()
	sort.Slice(snap.Roles, func(i, j int) bool { return snap.Roles[i].ARN < snap.Roles[j].ARN })
	sort.Slice(snap.Sessions, func(i, j int) bool { return snap.Sessions[i].AccessKeyID < snap.Sessions[j].AccessKeyID })
	b, err := json.Marshal(snap)
	if err != nil {
		return nil, fmt.Errorf("encoding sts snapshot: %w", err)
	}
	return b, nil
}

// Restore replaces the roles and sessions with a snapshot's and registers the
// restored sessions' keys in the keyring.
func (s *Service) Restore(raw json.RawMessage) error {
	var snap snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return fmt.Errorf("decoding sts snapshot: %w", err)
	}
	roles := map[string]Role{}
	for _, r := range snap.Roles {
		if _, _, ok := parseRoleARN(r.ARN); !ok {
			return fmt.Errorf("restoring sts snapshot: %q is not an IAM role ARN", r.ARN)
		}
		roles[r.ARN] = r
	}
	sessions := map[string]session{}
	for _, v := range snap.Sessions {
		if !strings.HasPrefix(v.AccessKeyID, "ASIA") {
			return fmt.Errorf("restoring sts snapshot: %q is not a temporary access key id", v.AccessKeyID)
		}
		sessions[v.AccessKeyID] = v
	}
	s.mu.Lock()
	s.roles, s.sessions = roles, sessions
	s.mu.Unlock()
	for _, v := range sessions {
		s.env.Keys.Add(awsapi.Credential{AccessKeyID: v.AccessKeyID, SecretAccessKey: v.SecretAccessKey, SessionToken: v.SessionToken, Expires: v.Expires, Identity: v.Identity})
	}
	return nil
}
