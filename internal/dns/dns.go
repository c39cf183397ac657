// Package dns is the seam between the engine and whoever serves a zone.
//
// A Provider reads the record sets at a name and applies a ChangeSet as one
// atomic, compare-and-swap batch. Every change names the record set it
// expects to replace (Old) and the one it wants (New); a provider that finds
// Old no longer matches what it serves refuses the whole set with a
// *ConflictError, so a concurrent edit pauses a run instead of being
// clobbered. Optional capabilities (waiting for propagation) are separate
// interfaces found by type assertion.
package dns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// AliasTarget is a Route 53 alias: the record answers with the target's
// addresses instead of holding values.
type AliasTarget struct {
	ZoneID               string `json:"zone_id"`
	DNSName              string `json:"dns_name"`
	EvaluateTargetHealth bool   `json:"evaluate_target_health,omitempty"`
}

// RecordSet is one resource record set, identified by (Name, Type,
// SetIdentifier).
type RecordSet struct {
	Name          string       `json:"name"` // lower-case FQDN with trailing dot
	Type          string       `json:"type"`
	SetIdentifier string       `json:"set_identifier,omitempty"`
	Weight        *int64       `json:"weight,omitempty"`
	Failover      string       `json:"failover,omitempty"` // PRIMARY | SECONDARY
	TTL           int64        `json:"ttl,omitempty"`      // 0 for alias records
	Values        []string     `json:"values,omitempty"`
	Alias         *AliasTarget `json:"alias,omitempty"`
	HealthCheckID string       `json:"health_check_id,omitempty"`
}

// Key identifies a record set within a zone.
func (r RecordSet) Key() string {
	return Fqdn(r.Name) + " " + r.Type + " " + r.SetIdentifier
}

// Equal reports whether two record sets are the same in every field a
// provider compares on delete (values compared as sets).
func (r RecordSet) Equal(o RecordSet) bool {
	if Fqdn(r.Name) != Fqdn(o.Name) || r.Type != o.Type || r.SetIdentifier != o.SetIdentifier ||
		r.Failover != o.Failover || r.TTL != o.TTL || r.HealthCheckID != o.HealthCheckID {
		return false
	}
	if (r.Weight == nil) != (o.Weight == nil) || (r.Weight != nil && *r.Weight != *o.Weight) {
		return false
	}
	if (r.Alias == nil) != (o.Alias == nil) {
		return false
	}
	if r.Alias != nil && (r.Alias.ZoneID != o.Alias.ZoneID || Fqdn(r.Alias.DNSName) != Fqdn(o.Alias.DNSName) ||
		r.Alias.EvaluateTargetHealth != o.Alias.EvaluateTargetHealth) {
		return false
	}
	a, b := slices.Clone(r.Values), slices.Clone(o.Values)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// String renders a record set in one line, zone-file style.
func (r RecordSet) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if r.TTL > 0 {
		fmt.Fprintf(&b, " %d", r.TTL)
	}
	b.WriteString(" " + r.Type)
	if r.SetIdentifier != "" {
		fmt.Fprintf(&b, " [set %s", r.SetIdentifier)
		if r.Weight != nil {
			fmt.Fprintf(&b, " weight %d", *r.Weight)
		}
		if r.Failover != "" {
			fmt.Fprintf(&b, " %s", r.Failover)
		}
		b.WriteString("]")
	}
	if r.Alias != nil {
		fmt.Fprintf(&b, " ALIAS %s (%s)", r.Alias.DNSName, r.Alias.ZoneID)
	}
	for _, v := range r.Values {
		b.WriteString(" " + v)
	}
	return b.String()
}

// Change replaces Old with New. Old nil creates New; New nil deletes Old.
// The order of changes within a ChangeSet is decided by whoever builds it,
// never by a provider.
type Change struct {
	Old *RecordSet `json:"old,omitempty"`
	New *RecordSet `json:"new,omitempty"`
}

// ChangeSet is applied as one atomic batch to one zone.
type ChangeSet struct {
	Zone    string   `json:"zone"`
	Comment string   `json:"comment,omitempty"`
	Changes []Change `json:"changes"`
}

// Provider is the interface every DNS backend implements.
type Provider interface {
	// Records returns every record set at name in zone (all types, all set
	// identifiers), as the provider serves them now.
	Records(ctx context.Context, zone, name string) ([]RecordSet, error)
	// Apply applies cs atomically. It returns an id that InSyncChecker (if
	// implemented) understands. A *ConflictError (errors.Is ErrConflict)
	// means an Old no longer matches and nothing was applied.
	Apply(ctx context.Context, cs ChangeSet) (changeID string, err error)
}

// InSyncChecker is implemented by providers whose changes propagate after
// Apply returns (Route 53's PENDING → INSYNC).
type InSyncChecker interface {
	InSync(ctx context.Context, changeID string) (bool, error)
}

// ZoneInfo is a zone as its provider describes it.
type ZoneInfo struct {
	// Name is the zone's apex, as an FQDN with the trailing dot.
	Name string `json:"name"`
	// RecordSets is how many record sets the zone holds (Route 53's
	// ResourceRecordSetCount: each weighted set counts on its own).
	RecordSets int `json:"record_sets"`
}

// ZoneDescriber is implemented by providers that can tell a zone's apex
// and size; the safety brake weighs a plan's changes against them.
type ZoneDescriber interface {
	ZoneInfo(ctx context.Context, zone string) (ZoneInfo, error)
}

// ErrConflict is matched by errors.Is on a *ConflictError.
var ErrConflict = errors.New("record changed outside cutover")

// ConflictError reports that the zone no longer holds what a change expected
// to replace: someone edited the record behind the run's back.
type ConflictError struct {
	Zone     string
	Expected []RecordSet // what the change set assumed (its Olds)
	Actual   []RecordSet // what the provider serves at those names now
	Cause    error       // the provider's own rejection
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "record changed outside cutover in zone %s", e.Zone)
	b.WriteString("\n  expected:")
	for _, r := range e.Expected {
		b.WriteString("\n    " + r.String())
	}
	if len(e.Expected) == 0 {
		b.WriteString(" (nothing)")
	}
	b.WriteString("\n  actual:")
	for _, r := range e.Actual {
		b.WriteString("\n    " + r.String())
	}
	if len(e.Actual) == 0 {
		b.WriteString(" (nothing)")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Unwrap returns the provider's rejection.
func (e *ConflictError) Unwrap() error { return e.Cause }

// Fqdn lower-cases name and adds the trailing dot.
func Fqdn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}
