package cloudfront

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/edge/cdn"
)

// ErrAliasTaken is matched by errors.Is on an *AliasConflictError; it is
// cdn.ErrAliasTaken.
var ErrAliasTaken = cdn.ErrAliasTaken

// AliasConflictError reports CNAMEAlreadyExists: an alias cutover tried to
// add is held by another distribution. The holder's ids are as
// ListConflictingAliases shows them, masked with asterisks when the holder
// is in another account; both are empty when CloudFront would not say.
type AliasConflictError struct {
	Alias              string
	HolderDistribution string
	HolderAccount      string
	Cause              error
}

func (e *AliasConflictError) Error() string {
	if e.HolderDistribution == "" {
		return fmt.Sprintf("alias %s is already on another distribution (CloudFront did not say which)", e.Alias)
	}
	return fmt.Sprintf("alias %s is already on distribution %s in account %s", e.Alias, e.HolderDistribution, e.HolderAccount)
}

// Is makes errors.Is(err, ErrAliasTaken) true.
func (e *AliasConflictError) Is(target error) bool { return target == ErrAliasTaken }

// Unwrap returns CloudFront's own rejection.
func (e *AliasConflictError) Unwrap() error { return e.Cause }

// Conflict is one entry of ListConflictingAliases.
type Conflict struct {
	Alias          string `json:"alias"`
	DistributionID string `json:"distribution_id"` // masked when in another account
	AccountID      string `json:"account_id"`      // masked when another account
}

// UpdateAliases adds and removes alternate domain names on a distribution.
// CloudFront's update is a full replacement guarded by the ETag, so the
// whole config is read, edited and sent back with If-Match; a stale ETag
// (another writer in between) restarts from the read. Adding an alias held
// elsewhere returns an *AliasConflictError naming the holder when
// ListConflictingAliases can tell.
func (c *Client) UpdateAliases(ctx context.Context, id string, add, remove []string) (Distribution, error) {
	var result Distribution
	var added []string
	err := c.readModifyWrite(ctx, func(ctx context.Context) error {
		cfg, etag, err := c.config(ctx, id)
		if err != nil {
			return err
		}
		var have []string
		if cfg.Aliases != nil {
			have = cfg.Aliases.Items
		}
		want, changed := editAliases(have, add, remove)
		added = nil
		for _, a := range want {
			if !slices.Contains(have, a) {
				added = append(added, a)
			}
		}
		if !changed {
			result, err = c.get(ctx, id)
			return err
		}
		cfg.Aliases = &types.Aliases{Quantity: aws.Int32(int32(len(want))), Items: want}
		out, err := c.update(ctx, id, etag, cfg)
		if err != nil {
			return err
		}
		result = out
		return nil
	})
	if err == nil {
		return result, nil
	}
	if errorCode(err) == "CNAMEAlreadyExists" {
		return Distribution{}, fmt.Errorf("updating aliases of distribution %s: %w", id, c.aliasConflict(ctx, id, added, err))
	}
	return Distribution{}, fmt.Errorf("updating aliases of distribution %s: %w", id, err)
}

// editAliases returns have plus add minus remove, normalised, in have's
// order with additions last, and whether anything changed.
func editAliases(have, add, remove []string) ([]string, bool) {
	drop := map[string]bool{}
	for _, a := range remove {
		drop[normAlias(a)] = true
	}
	var out []string
	changed := false
	for _, a := range have {
		if drop[a] {
			changed = true
			continue
		}
		out = append(out, a)
	}
	for _, a := range add {
		a = normAlias(a)
		if a == "" || drop[a] || slices.Contains(out, a) {
			continue
		}
		out = append(out, a)
		changed = true
	}
	return out, changed
}

// aliasConflict asks ListConflictingAliases who holds each alias we tried
// to add. When that fails (no covering certificate, no permission) the
// conflict is still reported, holder unknown.
func (c *Client) aliasConflict(ctx context.Context, id string, added []string, cause error) error {
	first := ""
	if len(added) > 0 {
		first = added[0]
	}
	for _, a := range added {
		list, err := c.Conflicts(ctx, id, a)
		if err != nil {
			return &AliasConflictError{Alias: first, Cause: errors.Join(cause, err)}
		}
		for _, x := range list {
			if x.Alias == a && x.DistributionID != id {
				return &AliasConflictError{Alias: a, HolderDistribution: x.DistributionID, HolderAccount: x.AccountID, Cause: cause}
			}
		}
	}
	return &AliasConflictError{Alias: first, Cause: cause}
}

// Conflicts lists the aliases that overlap alias (the exact name and
// covering wildcards, or for a wildcard every name it covers), as seen
// from distID, which must be the caller's with a certificate covering
// alias. Ids outside the caller's account come back masked.
func (c *Client) Conflicts(ctx context.Context, distID, alias string) ([]Conflict, error) {
	alias = normAlias(alias)
	in := &cf.ListConflictingAliasesInput{DistributionId: aws.String(distID), Alias: aws.String(alias), MaxItems: aws.Int32(100)}
	var out []Conflict
	for {
		var page *cf.ListConflictingAliasesOutput
		err := c.call(ctx, readCall, func(ctx context.Context) error {
			var err error
			page, err = c.api.ListConflictingAliases(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("listing aliases conflicting with %s from distribution %s: %w", alias, distID, err)
		}
		if page.ConflictingAliasesList == nil {
			return out, nil
		}
		for _, x := range page.ConflictingAliasesList.Items {
			out = append(out, Conflict{Alias: aws.ToString(x.Alias), DistributionID: aws.ToString(x.DistributionId), AccountID: aws.ToString(x.AccountId)})
		}
		next := aws.ToString(page.ConflictingAliasesList.NextMarker)
		if next == "" {
			return out, nil
		}
		in = &cf.ListConflictingAliasesInput{DistributionId: in.DistributionId, Alias: in.Alias, MaxItems: in.MaxItems, Marker: aws.String(next)}
	}
}

// AssociateAlias moves alias onto targetID in one step, taking it from
// whichever distribution holds it. CloudFront requires the `_<alias>` TXT
// record (ProofRecord) to exist first and a certificate on the target that
// covers alias; a holder in another account must be disabled.
func (c *Client) AssociateAlias(ctx context.Context, targetID, alias string) error {
	alias = normAlias(alias)
	err := c.call(ctx, writeCall, func(ctx context.Context) error {
		_, err := c.api.AssociateAlias(ctx, &cf.AssociateAliasInput{TargetDistributionId: aws.String(targetID), Alias: aws.String(alias)})
		return err
	})
	if err != nil {
		return fmt.Errorf("associating alias %s with distribution %s: %w", alias, targetID, err)
	}
	return nil
}

// ProofTTL is the TTL of the TXT record AssociateAlias checks. It is short
// because the record exists only for the move and is removed after.
const ProofTTL = 60

// ProofRecord is the TXT record AssociateAlias checks before moving alias
// to the distribution whose *.cloudfront.net name is targetDomain:
// `_<alias>` holding that name, quoted. For a wildcard alias the record
// sits at `_<parent>` (`*.example.com` → `_example.com`), since a `*` may
// only lead a DNS name.
func ProofRecord(alias, targetDomain string) dns.RecordSet {
	a := normAlias(alias)
	if rest, ok := strings.CutPrefix(a, "*."); ok {
		a = rest
	}
	value := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(targetDomain)), ".")
	return dns.RecordSet{Name: dns.Fqdn("_" + a), Type: "TXT", TTL: ProofTTL, Values: []string{strconv.Quote(value)}}
}

// config reads a distribution's config and its ETag.
func (c *Client) config(ctx context.Context, id string) (*types.DistributionConfig, string, error) {
	var out *cf.GetDistributionConfigOutput
	err := c.call(ctx, readCall, func(ctx context.Context) error {
		var err error
		out, err = c.api.GetDistributionConfig(ctx, &cf.GetDistributionConfigInput{Id: aws.String(id)})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if out.DistributionConfig == nil {
		return nil, "", fmt.Errorf("distribution %s: empty config in answer", id)
	}
	return out.DistributionConfig, aws.ToString(out.ETag), nil
}

// update sends cfg back whole with If-Match etag.
func (c *Client) update(ctx context.Context, id, etag string, cfg *types.DistributionConfig) (Distribution, error) {
	var out *cf.UpdateDistributionOutput
	err := c.call(ctx, writeCall, func(ctx context.Context) error {
		var err error
		out, err = c.api.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(id), IfMatch: aws.String(etag), DistributionConfig: cfg})
		return err
	})
	if err != nil {
		return Distribution{}, err
	}
	return fromSDK(out.Distribution, aws.ToString(out.ETag)), nil
}
