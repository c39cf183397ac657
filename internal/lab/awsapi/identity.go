package awsapi

import (
	"context"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/clock"
)

// Identity is who a request acts as: an account and a principal in it.
type Identity struct {
	AccountID   string `json:"account_id"`
	ARN         string `json:"arn"`
	UserID      string `json:"user_id"`
	AccessKeyID string `json:"access_key_id"`
}

// Credential is an access key the lab accepts.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expires         time.Time // zero: never
	Identity        Identity
}

// The lab's built-in accounts and the static key of each account's admin
// user. Two accounts exist so cross-account rules (alias moves, role chains,
// masked ids in ListConflictingAliases) can be exercised.
const (
	DefaultAccountID = "111111111111"
	OtherAccountID   = "222222222222"

	DefaultAccessKeyID     = "AKIALAB1111EXAMPLE01"
	DefaultSecretAccessKey = "lab-secret-111111111111"
	OtherAccessKeyID       = "AKIALAB2222EXAMPLE02"
	OtherSecretAccessKey   = "lab-secret-222222222222"
)

// Keyring maps access key ids to identities. Requests signed with a key the
// keyring does not know are refused the way AWS refuses them.
type Keyring struct {
	mu     sync.RWMutex
	keys   map[string]Credential
	marked map[string]Credential // what Reset returns to (Mark)
	anyKey string                // account unknown keys act in (AllowAnyKey)
	clock  clock.Clock
}

// NewKeyring returns a keyring holding the admin keys of the two built-in
// accounts.
func NewKeyring(clk clock.Clock) *Keyring {
	k := &Keyring{keys: map[string]Credential{}, clock: clk}
	for _, c := range []Credential{
		{AccessKeyID: DefaultAccessKeyID, SecretAccessKey: DefaultSecretAccessKey, Identity: Identity{AccountID: DefaultAccountID, ARN: "arn:aws:iam::" + DefaultAccountID + ":user/lab-admin", UserID: "AIDALAB1111ADMIN0001"}},
		{AccessKeyID: OtherAccessKeyID, SecretAccessKey: OtherSecretAccessKey, Identity: Identity{AccountID: OtherAccountID, ARN: "arn:aws:iam::" + OtherAccountID + ":user/lab-admin", UserID: "AIDALAB2222ADMIN0002"}},
	} {
		c.Identity.AccessKeyID = c.AccessKeyID
		k.keys[c.AccessKeyID] = c
	}
	k.Mark()
	return k
}

// Add registers a credential (STS uses it for temporary keys).
func (k *Keyring) Add(c Credential) {
	c.Identity.AccessKeyID = c.AccessKeyID
	k.mu.Lock()
	k.keys[c.AccessKeyID] = c
	k.mu.Unlock()
}

// Lookup returns the credential for an access key id, refusing expired ones.
func (k *Keyring) Lookup(akid string) (Credential, *Error) {
	k.mu.RLock()
	c, ok := k.keys[akid]
	k.mu.RUnlock()
	if !ok {
		if c, any := k.anyKeyCredential(akid); any {
			return c, nil
		}
		return Credential{}, &Error{Status: http.StatusForbidden, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
	}
	if !c.Expires.IsZero() && !k.clock.Now().Before(c.Expires) {
		return Credential{}, &Error{Status: http.StatusForbidden, Code: "ExpiredToken", Message: "The security token included in the request is expired"}
	}
	return c, nil
}

var credentialScope = regexp.MustCompile(`Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request`)

// Scope is what the SigV4 Authorization header says about a request.
type Scope struct {
	AccessKeyID string
	Region      string
	Service     string
}

// ParseScope reads the credential scope of a SigV4-signed request. ok is
// false for unsigned requests.
func ParseScope(r *http.Request) (Scope, bool) {
	m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return Scope{}, false
	}
	return Scope{AccessKeyID: m[1], Region: m[3], Service: m[4]}, true
}

type identityKey struct{}

// WithIdentity returns a context carrying the caller's identity.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the caller's identity; requests that reached a service
// without one (direct use in tests) act as the default account's admin.
func IdentityFrom(ctx context.Context) Identity {
	if id, ok := ctx.Value(identityKey{}).(Identity); ok {
		return id
	}
	return Identity{AccountID: DefaultAccountID, ARN: "arn:aws:iam::" + DefaultAccountID + ":user/lab-admin", UserID: "AIDALAB1111ADMIN0001", AccessKeyID: DefaultAccessKeyID}
}

// ErrMissingToken answers a request that carries no SigV4 signature.
var ErrMissingToken = &Error{Status: http.StatusForbidden, Code: "MissingAuthenticationToken", Message: "Request is missing Authentication Token"}

// Authenticate is what the lab does before every service: the SigV4
// credential scope names the access key, the keyring names the identity,
// and the returned request carries it in its context. An unsigned request
// gets ErrMissingToken; an unknown or expired key the error AWS answers.
func (k *Keyring) Authenticate(r *http.Request) (*http.Request, *Error) {
	scope, signed := ParseScope(r)
	if !signed {
		return nil, ErrMissingToken
	}
	cred, err := k.Lookup(scope.AccessKeyID)
	if err != nil {
		return nil, err
	}
	return r.WithContext(WithIdentity(r.Context(), cred.Identity)), nil
}
