package cloudfront

import (
	"context"
	"time"
)

// Accounts reaches each distribution with the Client of the account that
// owns it, so a move between distributions of two accounts changes each
// with its own credentials. Distributions it was not told about, and calls
// that name no distribution, go to the default Client.
//
// It offers every call of Client that names a distribution, the
// continuous deployment ones included, so a caller that finds optional
// capabilities by type assertion finds them here too.
type Accounts struct {
	def *Client
	by  map[string]*Client
}

// NewAccounts returns Accounts sending calls about the distributions in by
// (keyed by distribution id) to their Client, and every other call to def,
// which must not be nil.
func NewAccounts(def *Client, by map[string]*Client) *Accounts {
	m := make(map[string]*Client, len(by))
	for id, c := range by {
		m[id] = c
	}
	return &Accounts{def: def, by: m}
}

// For returns the Client that reaches distribution id.
func (a *Accounts) For(id string) *Client {
	if c, ok := a.by[id]; ok {
		return c
	}
	return a.def
}

// Distribution reads id with its account's Client.
func (a *Accounts) Distribution(ctx context.Context, id string) (Distribution, error) {
	return a.For(id).Distribution(ctx, id)
}

// WaitDeployed waits for id with its account's Client.
func (a *Accounts) WaitDeployed(ctx context.Context, id string, poll time.Duration) (Distribution, error) {
	return a.For(id).WaitDeployed(ctx, id, poll)
}

// UpdateAliases edits id's aliases with its account's Client.
func (a *Accounts) UpdateAliases(ctx context.Context, id string, add, remove []string) (Distribution, error) {
	return a.For(id).UpdateAliases(ctx, id, add, remove)
}

// Conflicts lists conflicting aliases as seen from distID's account.
func (a *Accounts) Conflicts(ctx context.Context, distID, alias string) ([]Conflict, error) {
	return a.For(distID).Conflicts(ctx, distID, alias)
}

// AssociateAlias moves alias with the target's account's Client: the
// target's account is the one that asks.
func (a *Accounts) AssociateAlias(ctx context.Context, targetID, alias string) error {
	return a.For(targetID).AssociateAlias(ctx, targetID, alias)
}

// WatchAlias watches targetID with its account's Client.
func (a *Accounts) WatchAlias(ctx context.Context, targetID, alias string, o WatchOptions) (time.Time, error) {
	return a.For(targetID).WatchAlias(ctx, targetID, alias, o)
}

// CopyToStaging copies the primary with its account's Client; the staging
// copy is created in that account.
func (a *Accounts) CopyToStaging(ctx context.Context, primaryID, callerRef string) (Distribution, error) {
	return a.For(primaryID).CopyToStaging(ctx, primaryID, callerRef)
}

// CreatePolicy creates the policy with the default Client: a policy is
// named by no distribution id. The staging strategy changes a single
// distribution, whose account is the default one.
func (a *Accounts) CreatePolicy(ctx context.Context, stagingDomain string, t Traffic) (id, etag string, err error) {
	return a.def.CreatePolicy(ctx, stagingDomain, t)
}

// AttachPolicy attaches the policy with the primary's account's Client.
func (a *Accounts) AttachPolicy(ctx context.Context, primaryID, policyID string) (Distribution, error) {
	return a.For(primaryID).AttachPolicy(ctx, primaryID, policyID)
}

// UpdatePolicy updates the policy with the default Client, as
// CreatePolicy does.
func (a *Accounts) UpdatePolicy(ctx context.Context, policyID string, t Traffic, enabled bool) error {
	return a.def.UpdatePolicy(ctx, policyID, t, enabled)
}

// Promote promotes with the primary's account's Client.
func (a *Accounts) Promote(ctx context.Context, primaryID, stagingID string) (Distribution, error) {
	return a.For(primaryID).Promote(ctx, primaryID, stagingID)
}

// Abort undoes continuous deployment with the primary's account's Client.
func (a *Accounts) Abort(ctx context.Context, primaryID, stagingID, policyID string) error {
	return a.For(primaryID).Abort(ctx, primaryID, stagingID, policyID)
}
