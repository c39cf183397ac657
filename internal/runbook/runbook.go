package runbook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

// Runbook is a compiled plan: what to do, in order, and what the world
// looked like when it was computed.
type Runbook struct {
	Name     string `json:"name"`
	Hostname string `json:"hostname"` // FQDN with trailing dot
	Zone     string `json:"zone"`
	// ZoneRoleARN is assumed to change the zone (cross-account); a resumed
	// run reaches the zone the same way.
	ZoneRoleARN string `json:"zone_role_arn,omitempty"`
	// ZoneRateLimit is the account's Route 53 rate regime (plan
	// zone.rate_limit); empty is legacy.
	ZoneRateLimit string `json:"zone_rate_limit,omitempty"`
	Strategy      string `json:"strategy"`
	// MaintenanceOf names the maintenance run a maintenance-off run ends.
	MaintenanceOf string `json:"maintenance_of,omitempty"`
	// Original is what the zone held at the hostname when the runbook was
	// compiled; rollback restores it (with the TTL kept low).
	Original []dns.RecordSet `json:"original"`
	// Fingerprint digests Original; apply refuses a runbook whose zone no
	// longer matches it.
	Fingerprint string `json:"fingerprint"`
	// CutoverTTL is the TTL used while traffic moves; rollback keeps it.
	CutoverTTL int64 `json:"cutover_ttl"`
	// AliasTTL is the TTL resolvers get for alias records.
	AliasTTL int64 `json:"alias_ttl"`
	// CDNRoleARN is assumed to change the distributions (cross-account).
	CDNRoleARN string `json:"cdn_role_arn,omitempty"`
	// DistributionRoles overrides CDNRoleARN per distribution id, when the
	// two distributions live in different accounts (seed 000).
	DistributionRoles map[string]string `json:"distribution_roles,omitempty"`
	// ZoneServer is set when the zone is plain DNS changed by RFC 2136
	// updates instead of Route 53; ZoneRoleARN is then empty.
	ZoneServer *ZoneServer `json:"zone_server,omitempty"`
	// Identities say how the roles the runbook names are assumed (a chain
	// before the role, an external id, a session name), by role ARN. A role
	// absent here is assumed directly with the caller's credentials.
	Identities map[string]Identity `json:"identities,omitempty"`
	// From and To are the edges as observed at compile time; the observed
	// split reads their request metrics. Nil in runbooks compiled before
	// they were recorded.
	From *Target `json:"from,omitempty"`
	To   *Target `json:"to,omitempty"`
	// Gates are the checks steps refer to by name.
	Gates []Gate `json:"gates,omitempty"`
	// Webhooks are called around steps; a failing one holds the run.
	Webhooks []Webhook `json:"webhooks,omitempty"`
	// Notify are the receivers told what happens (never blocking the run).
	Notify []Notify `json:"notify,omitempty"`
	Steps  []Step   `json:"steps"`
	// Bulk is set when the runbook moves a set of hostnames (Hostname and
	// Zone are then its first); Original is empty, each host keeps its own.
	Bulk *Bulk `json:"bulk,omitempty"`
	// Notes explain choices the compiler made (why a wait is that long, why
	// a strategy was picked); plan output prints them.
	Notes []string `json:"notes,omitempty"`
}

// ZoneServer is an authoritative DNS server taking RFC 2136 updates.
type ZoneServer struct {
	// Server is the primary, host:port.
	Server string `json:"server"`
	// Nameservers are the servers a change must reach; empty means the
	// zone's NS records.
	Nameservers []string `json:"nameservers,omitempty"`
	// TSIG names the key; its secret is read when the run's adapters are
	// built, never stored.
	TSIG *TSIGRef `json:"tsig,omitempty"`
}

// TSIGRef names a TSIG key and where its secret is read from.
type TSIGRef struct {
	Name       string `json:"name"`
	Algorithm  string `json:"algorithm"`
	SecretFile string `json:"secret_file,omitempty"`
	SecretEnv  string `json:"secret_env,omitempty"`
}

// Identity is how one role is assumed: after the roles of Chain (each with
// the credentials of the one before), sending ExternalID, naming the
// session SessionName (default "cutover").
type Identity struct {
	Chain       []string `json:"chain,omitempty"`
	ExternalID  string   `json:"external_id,omitempty"`
	SessionName string   `json:"session_name,omitempty"`
}

// Step is one idempotent action. Exactly one field besides ID and Title is
// set.
type Step struct {
	ID    string `json:"id"`
	Title string `json:"title"`

	Change  *Change  `json:"change,omitempty"`
	InSync  *InSync  `json:"insync,omitempty"`
	Wait    *Wait    `json:"wait,omitempty"`
	Observe *Observe `json:"observe,omitempty"`
	Verify  *Verify  `json:"verify,omitempty"`
	Hold    *Hold    `json:"hold,omitempty"`

	// CloudFront steps (alias-move and bridge strategies).
	Aliases    *Aliases    `json:"aliases,omitempty"`
	Associate  *Associate  `json:"associate,omitempty"`
	WatchAlias *WatchAlias `json:"watch_alias,omitempty"`
	Deployed   *Deployed   `json:"deployed,omitempty"`
	// Staging is one operation of CloudFront continuous deployment
	// (staging strategy).
	Staging *Staging `json:"staging,omitempty"`
	// Drain waits for the old edge to go quiet (drain gates).
	Drain *Drain `json:"drain,omitempty"`
	// HealthCheck sets a Route 53 health check's Inverted flag
	// (maintenance in failover mode).
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
	// Approve waits for an operator's `cutover promote`.
	Approve *Approve `json:"approve,omitempty"`
	// BulkChange applies every hostname's change of a bulk runbook.
	BulkChange *BulkChange `json:"bulk_change,omitempty"`
}

// UsesCDN reports whether the runbook (and so its rollback, which unwinds
// these steps) has a step that calls CloudFront — aliases, AssociateAlias,
// a watch, a Deployed wait, continuous deployment: the engine then needs a
// CloudFront client.
func (rb *Runbook) UsesCDN() bool {
	for _, s := range rb.Steps {
		if s.Aliases != nil || s.Associate != nil || s.WatchAlias != nil || s.Deployed != nil || s.Staging != nil {
			return true
		}
	}
	return false
}

// Kind names the field that is set.
func (s Step) Kind() string {
	switch {
	case s.Change != nil:
		return "change"
	case s.InSync != nil:
		return "insync"
	case s.Wait != nil:
		return "wait"
	case s.Observe != nil:
		return "observe"
	case s.Verify != nil:
		return "verify"
	case s.Hold != nil:
		return "hold"
	case s.Aliases != nil:
		return "aliases"
	case s.Associate != nil:
		return "associate"
	case s.WatchAlias != nil:
		return "watch-alias"
	case s.Deployed != nil:
		return "deployed"
	case s.Staging != nil:
		return "staging"
	case s.Drain != nil:
		return "drain"
	case s.HealthCheck != nil:
		return "health-check"
	case s.Approve != nil:
		return "approve"
	case s.BulkChange != nil:
		return "bulk-change"
	}
	return "empty"
}

// Change applies one atomic, compare-and-swap change set to the zone.
type Change struct {
	Set dns.ChangeSet `json:"set"`
	// Weights is the share of traffic (percent) each side gets once the
	// change is live, for progress output; nil when not weighted.
	Weights *Weights `json:"weights,omitempty"`
}

// Weights is the traffic split a step establishes.
type Weights struct {
	Old int64 `json:"old"`
	New int64 `json:"new"`
}

// InSync waits until the provider reports the previous change propagated to
// all of its servers.
type InSync struct {
	Timeout Duration `json:"timeout"`
}

// Wait waits a fixed time; Reason says why (for example "old TTL 300s: the
// longest any resolver may still hold the previous answer").
type Wait struct {
	Duration Duration `json:"duration"`
	Reason   string   `json:"reason"`
}

// Observe keeps the current split for Duration while evaluating Gates every
// gate interval. A gate breach follows the gate's on_failure policy.
type Observe struct {
	Duration Duration `json:"duration"`
	Gates    []string `json:"gates,omitempty"`
	Weights  *Weights `json:"weights,omitempty"`
}

// Verify checks which side really serves the hostname.
type Verify struct {
	Expect  string `json:"expect"` // "new" or "old"
	Path    string `json:"path,omitempty"`
	Samples int    `json:"samples,omitempty"`
	// NewMarker and OldMarker identify each side's answers, Header the
	// response header carrying them (the body when empty), Resolvers the
	// DNS servers asked besides the system's: the plan's verify block,
	// stored so that a resumed run verifies the same way.
	NewMarker string   `json:"new_marker,omitempty"`
	OldMarker string   `json:"old_marker,omitempty"`
	Header    string   `json:"header,omitempty"`
	Resolvers []string `json:"resolvers,omitempty"`
	// Hostnames is how many hostnames of a bulk runbook each verify step
	// checks (0: DefaultVerifyHostnames).
	Hostnames int `json:"hostnames,omitempty"`
}

// DefaultVerifyHostnames is how many hostnames of a bulk runbook a verify
// step checks when the plan does not say.
const DefaultVerifyHostnames = 20

// Hold keeps the old edge alive for Duration with gates still evaluated, so
// rollback stays one command away.
type Hold struct {
	Duration Duration `json:"duration"`
	Gates    []string `json:"gates,omitempty"`
}

// Approve keeps the current split, evaluating Gates, until an operator
// promotes the run. With a Timeout, OnTimeout (rollback or pause) applies
// when nobody did; the deadline is stored, so a restart does not extend it.
type Approve struct {
	Timeout   Duration `json:"timeout,omitempty"`
	OnTimeout string   `json:"on_timeout,omitempty"`
	Gates     []string `json:"gates,omitempty"`
	Weights   *Weights `json:"weights,omitempty"`
}

// Aliases adds and removes alternate domain names on a distribution with
// an ETag compare-and-swap. Applying it twice is harmless.
type Aliases struct {
	Distribution string   `json:"distribution"`
	Add          []string `json:"add,omitempty"`
	Remove       []string `json:"remove,omitempty"`
}

// Associate moves Alias onto Target with CloudFront's AssociateAlias (the
// `_<alias>` TXT proof must be served by then). From is the distribution
// that held it, so a rollback can move it back.
type Associate struct {
	Alias      string `json:"alias"`
	Target     string `json:"target"`
	From       string `json:"from"`
	FromDomain string `json:"from_domain"`
}

// WatchAlias waits for someone else (AWS Support) to move Alias onto
// Target, polling within the CloudFront API budget; after Timeout the run
// is rolled back to exactly where it started.
type WatchAlias struct {
	Alias      string   `json:"alias"`
	Target     string   `json:"target"`
	From       string   `json:"from"`
	FromDomain string   `json:"from_domain"`
	Timeout    Duration `json:"timeout"`
	Poll       Duration `json:"poll"`
}

// Deployed waits until every listed distribution reports Deployed, then
// Settle more: right after a move either distribution may still answer
// the name for a while (reference B1).
type Deployed struct {
	Distributions []string `json:"distributions"`
	Timeout       Duration `json:"timeout"`
	Settle        Duration `json:"settle,omitempty"`
}

// Drain waits until every listed drain gate reports the old edge quiet
// for its window. What happens when a gate's timeout passes first (keep
// waiting, pause, roll back) is the gate's policy.
type Drain struct {
	Gates []string `json:"gates"`
}

// Staging is one operation of CloudFront continuous deployment on the
// primary distribution: copy (create the staging distribution), policy
// (create and attach the policy with the traffic config), traffic (change
// weight or header), promote, or abort. Ids created at run time (staging
// distribution, policy) live in the run's data, not here.
type Staging struct {
	Op          string   `json:"op"`
	Primary     string   `json:"primary"`
	Weight      float64  `json:"weight,omitempty"`
	Header      string   `json:"header,omitempty"`
	HeaderValue string   `json:"header_value,omitempty"`
	Idle        Duration `json:"idle,omitempty"`
	Max         Duration `json:"max,omitempty"`
}

// HealthCheck sets the Inverted flag of Route 53 health check ID, with a
// compare-and-swap on the check's version. Inverting the PRIMARY's check
// of a failover pair sends clients to the SECONDARY without touching the
// backend; setting the flag it already has is harmless.
type HealthCheck struct {
	ID       string `json:"id"`
	Inverted bool   `json:"inverted"`
}

// Gate is a compiled gate: its name, cadence, policy, and provider config
// (kept as JSON so the runbook stays independent of gate implementations).
type Gate struct {
	Name      string          `json:"name"`
	Interval  Duration        `json:"interval"`
	For       Duration        `json:"for"`
	OnFailure string          `json:"on_failure"` // rollback | pause
	Kind      string          `json:"kind"`       // cloudwatch | probe
	Spec      json.RawMessage `json:"spec"`
	// InconclusiveLimit is how many inconclusive measurements in a row are
	// tolerated before the run pauses (0: the first pauses).
	InconclusiveLimit int `json:"inconclusive_limit,omitempty"`
	// DryRun records verdicts without acting on them.
	DryRun bool `json:"dry_run,omitempty"`
}

// The webhook types, after Flagger's: when a webhook is called.
const (
	// HookPreStep is called before each step of the plan starts.
	HookPreStep = "pre-step"
	// HookPostStep is called after each step of the plan completed.
	HookPostStep = "post-step"
	// HookConfirmPromotion is called before the step that sends all
	// traffic to the new edge.
	HookConfirmPromotion = "confirm-promotion"
	// HookRollback is called once a rollback has reverted the records; it
	// never holds the rollback.
	HookRollback = "rollback"
)

// HookTypes lists the webhook types.
var HookTypes = []string{HookPreStep, HookPostStep, HookConfirmPromotion, HookRollback}

// Webhook is a call the run makes and waits on. It names where the
// signing secret is (an environment variable or a file), never the secret.
type Webhook struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	URL        string   `json:"url"`
	Timeout    Duration `json:"timeout"`
	SecretEnv  string   `json:"secret_env,omitempty"`
	SecretFile string   `json:"secret_file,omitempty"`
}

// Notify is a receiver of notifications: kind slack (an incoming webhook)
// or webhook (generic JSON). The URL may come from an environment
// variable, as Slack's carry their own secret.
type Notify struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	URL    string `json:"url,omitempty"`
	URLEnv string `json:"url_env,omitempty"`
}

// Duration is a time.Duration that encodes as a Go duration string.
type Duration time.Duration

// MarshalJSON renders "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Fingerprint digests a set of record sets independently of their order.
func Fingerprint(sets []dns.RecordSet) string {
	sorted := append([]dns.RecordSet(nil), sets...)
	for i := range sorted {
		v := append([]string(nil), sorted[i].Values...)
		sort.Strings(v)
		sorted[i].Values = v
		sorted[i].Name = dns.Fqdn(sorted[i].Name)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key() < sorted[j].Key() })
	b, _ := json.Marshal(sorted)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// Validate checks the one-field-set invariant of every step.
func (rb *Runbook) Validate() error {
	for i, s := range rb.Steps {
		n := 0
		for _, set := range []bool{s.Change != nil, s.InSync != nil, s.Wait != nil, s.Observe != nil, s.Verify != nil, s.Hold != nil,
			s.Aliases != nil, s.Associate != nil, s.WatchAlias != nil, s.Deployed != nil, s.Staging != nil, s.Drain != nil,
			s.HealthCheck != nil, s.Approve != nil, s.BulkChange != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("step %d (%s): %d actions set, want exactly 1", i, s.ID, n)
		}
	}
	return nil
}
