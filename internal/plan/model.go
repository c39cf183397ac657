package plan

import "time"

// APIVersion and Kind identify a plan file; both must be written exactly.
const (
	APIVersion = "cutover/v1"
	Kind       = "Cutover"
)

// Strategy is how traffic moves from one edge to the other.
type Strategy string

// The strategies. DESIGN.md explains when each applies.
const (
	// StrategyAuto lets the runbook compiler pick from what it observes
	// (alias ownership, accounts, record types) and explain its choice.
	StrategyAuto Strategy = "auto"
	// StrategyFlip prepares the TTL, then changes the record once.
	StrategyFlip Strategy = "flip"
	// StrategyWeighted shifts Route 53 weights step by step, gated.
	StrategyWeighted Strategy = "weighted"
	// StrategyAliasMove moves a CloudFront alternate domain name from one
	// distribution to another and repoints DNS within a second of the move.
	StrategyAliasMove Strategy = "alias-move"
	// StrategyBridge shifts to a host-rewriting bridge, drains the old
	// distribution, moves the alias, then shifts from the bridge to the new
	// distribution.
	StrategyBridge Strategy = "bridge"
	// StrategyStaging uses CloudFront continuous deployment on one
	// distribution: a staging copy takes a share of traffic, then is promoted.
	StrategyStaging Strategy = "staging"
	// StrategyMaintenance puts a maintenance page, the to edge, in front
	// of the hostname (Route 53 weight override or failover) and keeps the
	// records it found, so switching it off restores them byte for byte.
	StrategyMaintenance Strategy = "maintenance"
)

// Strategies lists every accepted strategy, in the order the docs present them.
var Strategies = []Strategy{StrategyFlip, StrategyWeighted, StrategyAliasMove, StrategyBridge, StrategyStaging, StrategyMaintenance, StrategyAuto}

// usesSteps reports whether the strategy shifts traffic by DNS weights.
func (s Strategy) usesSteps() bool {
	return s == StrategyWeighted || s == StrategyBridge || s == StrategyAuto
}

// EdgeKind is what an edge is.
type EdgeKind string

// The edge kinds.
const (
	// EdgeCloudFront is a CloudFront distribution, named by its id.
	EdgeCloudFront EdgeKind = "cloudfront"
	// EdgeALB is an Application (or Network) Load Balancer, named by its ARN
	// or its DNS name.
	EdgeALB EdgeKind = "alb"
	// EdgeEndpoint is any DNS name, reached through a CNAME.
	EdgeEndpoint EdgeKind = "endpoint"
)

// EdgeKinds lists the accepted edge kinds.
var EdgeKinds = []EdgeKind{EdgeCloudFront, EdgeALB, EdgeEndpoint}

// OnFailure is what a breached gate does to the run.
type OnFailure string

// The gate failure actions.
const (
	// OnFailureRollback starts the rollback runbook at once.
	OnFailureRollback OnFailure = "rollback"
	// OnFailurePause stops the run where it is and waits for a human.
	OnFailurePause OnFailure = "pause"
)

// Missing says how a CloudWatch gate treats a period without a datapoint.
type Missing string

// The missing-data treatments.
const (
	// MissingZero counts an absent point as 0; ALB counters are published
	// only when non-zero, so absence means none happened.
	MissingZero Missing = "zero"
	// MissingBreach counts an absent point as a breach.
	MissingBreach Missing = "breach"
	// MissingIgnore gives no verdict: the measurement is inconclusive
	// (never a pass), tolerated up to the gate's inconclusive_limit in a
	// row before the run pauses — for metrics that arrive late (CloudFront's
	// by a few minutes).
	MissingIgnore Missing = "ignore"
)

// Plan is one cutover: move Hostname in Zone from the edge From to the edge To.
type Plan struct {
	// Pos is where the plan's top-level mapping starts.
	Pos Pos `yaml:"-"`
	// APIVersion must be "cutover/v1".
	APIVersion string `yaml:"apiVersion" plan:"required"`
	// Kind must be "Cutover".
	Kind string `yaml:"kind" plan:"required"`
	// Name names the run: lower-case letters, digits and hyphens, 1–63
	// characters, starting and ending with a letter or digit.
	Name string `yaml:"name" plan:"required"`
	// Hostname is the name whose traffic moves, a lower-case FQDN. A
	// trailing dot is accepted and removed. Required, unless Hostnames is
	// set; never with it.
	Hostname string `yaml:"hostname" plan:"required,unless=hostnames"`
	// Hostnames make a bulk plan: every hostname they select, in one or
	// many Route 53 zones, moves through the same steps together. Only
	// with provider route53 and strategy weighted (the default) or flip.
	Hostnames []HostSelector `yaml:"hostnames"`
	// Zone is the DNS zone that holds Hostname's records. With Hostnames
	// it holds the provider and role settings, and its id is the zone of
	// every selector that names none.
	Zone Zone `yaml:"zone" plan:"required,unless=hostnames"`
	// From is the edge serving Hostname today.
	From Edge `yaml:"from" plan:"required"`
	// To is the edge that will serve it. Required, except with strategy
	// staging, where it defaults to From (one distribution, a new
	// configuration).
	To Edge `yaml:"to"`
	// Strategy defaults to weighted when neither edge is CloudFront, to
	// staging when From and To name the same distribution, and to auto
	// otherwise.
	Strategy Strategy `yaml:"strategy"`
	// TTL controls record TTLs before, during and after the move.
	TTL TTL `yaml:"ttl"`
	// Steps are the weights for the new edge, in percent. Default for the
	// weighted, bridge and auto strategies: 1, 10, 50, 90, 100, with a 5m
	// pause after each step but the last. With the bridge strategy these are
	// the steps of phase 2 (bridge to new distribution).
	Steps []Step `yaml:"steps"`
	// Gates are the checks that must hold while traffic moves. Default: none.
	Gates []Gate `yaml:"gates"`
	// Verify says how to tell which edge served a request. Default: nil,
	// which verifies DNS answers only.
	Verify *Verify `yaml:"verify"`
	// Hold is how long the old edge is kept alive (and rollback stays one
	// command) after the move. Default 72h.
	Hold Duration `yaml:"hold"`
	// AliasMove tunes the alias-move strategy. Default when that strategy is
	// used: mode associate, timeout 2h, poll 5s.
	AliasMove *AliasMove `yaml:"alias_move"`
	// Bridge configures the bridge strategy; required by it.
	Bridge *Bridge `yaml:"bridge"`
	// Staging configures the staging strategy. Default when that strategy is
	// used: one step at weight 0.05 with a 10m pause.
	Staging *Staging `yaml:"staging"`
	// Maintenance configures the maintenance strategy, whose to edge is
	// the page. Default when that strategy is used: mode weight.
	Maintenance *Maintenance `yaml:"maintenance"`
	// Webhooks are called around steps, Flagger-style; a non-2xx answer or
	// a timeout holds the run. Default: none.
	Webhooks []Webhook `yaml:"webhooks"`
	// Notify are receivers told what happens: steps, gate failures,
	// rollbacks, pauses, the end. They never hold the run. Default: none.
	Notify []Notification `yaml:"notify"`
	// Brake is the safety brake: apply refuses, without --force, a plan
	// whose changes touch NS or SOA records, the zone apex, or more than
	// MaxShare of a zone's record sets.
	Brake Brake `yaml:"brake"`

	file      string
	warnings  Diagnostics
	positions map[any]Pos
}

// HostSelector picks hostnames of a bulk plan: exactly one of Match, Names
// and File.
type HostSelector struct {
	Pos Pos `yaml:"-"`
	// Zone is the Route 53 hosted zone id, with or without /hostedzone/;
	// stored without it. Default: `zone.id`.
	Zone string `yaml:"zone"`
	// Match selects every name of the zone that matches this glob and has
	// A, AAAA or CNAME records: `*` stands for one or more whole labels,
	// and only at the left (*.cdn.example.com).
	Match string `yaml:"match"`
	// Names lists hostnames, validated like `hostname`.
	Names []string `yaml:"names"`
	// File names a file, relative to the plan file's directory, listing
	// one hostname per line, optionally followed by its zone id (default:
	// this selector's zone); `#` starts a comment. It is read when the plan
	// is loaded, into Entries.
	File string `yaml:"file"`
	// Entries are the hostnames File lists, each with its zone and line.
	Entries []FileHost `yaml:"-"`
}

// FileHost is one line of a hostnames file.
type FileHost struct {
	Pos  Pos
	Name string
	// Zone is the hosted zone id the line names, "" when it names none.
	Zone string
}

// Selection is a bulk plan's hostnames of one zone: the names listed, or
// the glob Match.
type Selection struct {
	Zone  string
	Match string
	Names []string
}

// Selections are the plan's hostnames, selector by selector (a file's
// hostnames grouped by zone, in the order their zones first appear), each
// with its zone resolved. Nil for a plan without Hostnames.
func (p *Plan) Selections() []Selection {
	var out []Selection
	for i := range p.Hostnames {
		h := &p.Hostnames[i]
		zone := h.Zone
		if zone == "" {
			zone = p.Zone.ID
		}
		switch {
		case h.Match != "":
			out = append(out, Selection{Zone: zone, Match: h.Match})
		case h.File != "":
			at := map[string]int{}
			for _, e := range h.Entries {
				z := e.Zone
				if z == "" {
					z = zone
				}
				k, ok := at[z]
				if !ok {
					k = len(out)
					at[z] = k
					out = append(out, Selection{Zone: z})
				}
				out[k].Names = append(out[k].Names, e.Name)
			}
		default:
			out = append(out, Selection{Zone: zone, Names: append([]string(nil), h.Names...)})
		}
	}
	return out
}

// IsBulk reports whether the plan moves a set of hostnames (Hostnames).
func (p *Plan) IsBulk() bool { return len(p.Hostnames) > 0 }

// The zone providers.
const (
	// ProviderRoute53 is Amazon Route 53, reached with AWS credentials.
	ProviderRoute53 = "route53"
	// ProviderRFC2136 is any DNS server taking RFC 2136 dynamic updates
	// signed with TSIG (Knot, BIND, PowerDNS). Plain DNS has no weights
	// and no alias records: strategies flip and staging only.
	ProviderRFC2136 = "rfc2136"
)

// Providers lists the accepted zone providers.
var Providers = []string{ProviderRoute53, ProviderRFC2136}

// WebhookTypes lists when a webhook can be called.
var WebhookTypes = []string{"pre-step", "post-step", "confirm-promotion", "rollback"}

// Webhook is an HTTP call the run waits on.
type Webhook struct {
	Pos Pos `yaml:"-"`
	// Name identifies the webhook in events; same syntax as the plan name.
	Name string `yaml:"name" plan:"required"`
	// Type is when it is called: pre-step (before each step), post-step
	// (after each), confirm-promotion (before all traffic moves to the new
	// edge) or rollback (once a rollback reverted the records; it never
	// holds the rollback).
	Type string `yaml:"type" plan:"required"`
	// URL receives the POSTed JSON document; http or https.
	URL string `yaml:"url" plan:"required"`
	// Timeout bounds each call. Default 10s.
	Timeout Duration `yaml:"timeout"`
	// SecretEnv names the environment variable holding the HMAC-SHA256
	// signing secret. The secret itself is never written to the state.
	SecretEnv string `yaml:"secret_env"`
	// SecretFile names a file holding the signing secret instead.
	SecretFile string `yaml:"secret_file"`
}

// NotifyKinds lists the notification receivers.
var NotifyKinds = []string{"slack", "webhook"}

// Notification is a receiver of progress messages.
type Notification struct {
	Pos Pos `yaml:"-"`
	// Name identifies the receiver in logs.
	Name string `yaml:"name" plan:"required"`
	// Kind is slack (a Slack-compatible incoming webhook) or webhook (a
	// generic JSON document). Required.
	Kind string `yaml:"kind" plan:"required"`
	// URL is the receiver's address. Exactly one of URL and URLEnv.
	URL string `yaml:"url"`
	// URLEnv names an environment variable holding the URL (Slack's
	// incoming webhook URLs are secrets).
	URLEnv string `yaml:"url_env"`
}

// Brake limits how much of a zone a plan may change without --force.
type Brake struct {
	Pos Pos `yaml:"-"`
	// MaxShare is the largest share of the zone's record sets the plan may
	// touch, 0 < max_share <= 1. Default 0.3.
	MaxShare float64 `yaml:"max_share"`
	// MinRecordSets is the zone size from which MaxShare applies: in a
	// zone of three record sets any change is a third of it. Default 10.
	MinRecordSets int `yaml:"min_record_sets"`
}

// Zone is where Hostname's records live.
type Zone struct {
	Pos Pos `yaml:"-"`
	// Provider is the DNS provider: route53 or rfc2136. Default route53.
	Provider string `yaml:"provider"`
	// ID is the hosted zone id, with or without the /hostedzone/ prefix;
	// stored without it. Required for route53.
	ID string `yaml:"id"`
	// Name is the zone's apex (example.com). Required for rfc2136;
	// otherwise optional. When set, Hostname must lie inside it.
	Name string `yaml:"name"`
	// Server is the primary server taking updates, host:port (port 53 when
	// left out). Required for rfc2136.
	Server string `yaml:"server"`
	// Nameservers are the authoritative servers a change must reach before
	// the run goes on (host:port). Default: the zone's NS records, at the
	// server's port. rfc2136 only.
	Nameservers []string `yaml:"nameservers"`
	// TSIG is the key that signs every update. Required for rfc2136.
	TSIG *TSIG `yaml:"tsig"`
	// RoleARN is an IAM role assumed to change a route53 zone in another
	// account. Optional.
	RoleARN string `yaml:"role_arn"`
	// RoleChain are roles assumed in order before RoleARN (see Identity).
	RoleChain []string `yaml:"role_chain"`
	// ExternalID is sent with every AssumeRole (see Identity).
	ExternalID string `yaml:"external_id"`
	// SessionName names the assumed-role sessions (see Identity).
	SessionName string `yaml:"session_name"`
	// RateLimit is the Route 53 request rate the account has: legacy (5
	// requests/s) or buckets (token buckets: burst 50, 10/s). The run
	// stays just under it. Default legacy. route53 only.
	RateLimit string `yaml:"rate_limit"`
}

// The Route 53 request-rate regimes a zone's account can be under
// (reference A4).
const (
	RateLimitLegacy  = "legacy"
	RateLimitBuckets = "buckets"
)

// RateLimits lists the accepted zone.rate_limit values.
var RateLimits = []string{RateLimitLegacy, RateLimitBuckets}

// Identity is the AWS identity the zone is changed with.
func (z Zone) Identity() Identity {
	return Identity{RoleARN: z.RoleARN, RoleChain: z.RoleChain, ExternalID: z.ExternalID, SessionName: z.SessionName}
}

// Ref is how the zone is named to its provider: the hosted zone id for
// route53, the apex for rfc2136.
func (z Zone) Ref() string {
	if z.Provider == ProviderRFC2136 {
		return z.Name
	}
	return z.ID
}

// TSIG names a TSIG key and where its secret is read from when a run
// starts. The secret itself is never in the plan, the run's state or its
// events.
type TSIG struct {
	Pos Pos `yaml:"-"`
	// Name is the key's name, as the server knows it. Required.
	Name string `yaml:"name" plan:"required"`
	// Algorithm is hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or
	// hmac-sha512. Default hmac-sha256.
	Algorithm string `yaml:"algorithm"`
	// SecretFile is a file holding the base64 secret (relative to the plan
	// file's directory). Exactly one of SecretFile and SecretEnv is set.
	SecretFile string `yaml:"secret_file"`
	// SecretEnv is an environment variable holding the base64 secret.
	SecretEnv string `yaml:"secret_env"`
}

// Identity is how cutover reaches an AWS account: the caller's own
// credentials, or a role assumed with them (after the roles of RoleChain,
// each assumed with the credentials of the one before).
type Identity struct {
	// RoleARN is an IAM role assumed to reach this zone or edge, for one
	// in another account. Optional.
	RoleARN string
	// RoleChain are roles assumed in order before RoleARN, each with the
	// credentials of the one before (the first with the caller's own).
	// Optional; needs RoleARN.
	RoleChain []string
	// ExternalID is sent with every AssumeRole of the chain, for trust
	// policies that require sts:ExternalId. Optional; needs RoleARN.
	ExternalID string
	// SessionName names the assumed-role sessions (CloudTrail shows it).
	// Default "cutover". Optional; needs RoleARN.
	SessionName string
}

// Edge is where a hostname can point. Exactly one of the keys cloudfront,
// alb or endpoint is written in the file; Kind records which one.
type Edge struct {
	Pos Pos
	// Kind is cloudfront, alb or endpoint.
	Kind EdgeKind
	// Value is the distribution id (cloudfront), the load balancer ARN or DNS
	// name (alb), or the DNS name (endpoint). DNS names are stored lower-case
	// without a trailing dot.
	Value string
	// Identity is the AWS identity that reads or changes this edge, for an
	// edge in another account.
	Identity
}

// IsZero reports whether no edge was given.
func (e Edge) IsZero() bool { return e.Kind == "" }

// String renders the edge as kind:value.
func (e Edge) String() string { return string(e.Kind) + ":" + e.Value }

// TTL controls the record TTL around the move.
type TTL struct {
	Pos Pos `yaml:"-"`
	// Cutover is the TTL, in seconds, set before and used during the move.
	// Default 30.
	Cutover int64 `yaml:"cutover"`
	// Restore is the TTL, in seconds, set once the move is done. Default 0,
	// which restores the TTL observed before the run.
	Restore int64 `yaml:"restore"`
	// Prepare is how long to wait after lowering the TTL (and Route 53
	// reporting INSYNC) before the first shift, so that resolvers forget the
	// old TTL. The run always waits at least the observed old TTL; Default 0
	// means exactly that.
	Prepare Duration `yaml:"prepare"`
}

// Step is one shift of traffic: set the new edge's weight, then watch the
// gates for Pause before the next step. A step that sets Approve instead of
// Weight is a manual approval: the run waits there for `cutover promote`.
type Step struct {
	Pos Pos `yaml:"-"`
	// Weight is the share of traffic for the new edge, in percent (0–100);
	// the old edge gets the rest. Required, except on an approval step.
	Weight int `yaml:"weight"`
	// Approve makes this step a manual approval instead of a shift: the
	// run keeps the current split, gates still watched, until an operator
	// runs `cutover promote NAME`.
	Approve *Approve `yaml:"approve"`
	// Pause is how long gates are watched after this step settles. Default 0.
	Pause Duration `yaml:"pause"`
	// Gates names the gates watched during this step. Default: all gates.
	Gates []string `yaml:"gates"`
}

// Approval timeout actions.
const (
	// OnTimeoutRollback rolls the run back when nobody approved in time.
	OnTimeoutRollback = "rollback"
	// OnTimeoutPause pauses the run when nobody approved in time.
	OnTimeoutPause = "pause"
)

// Approve is a manual approval step.
type Approve struct {
	Pos Pos `yaml:"-"`
	// Timeout bounds the wait for approval. Default 0: wait until promoted.
	Timeout Duration `yaml:"timeout"`
	// OnTimeout is rollback or pause: what happens when Timeout passes
	// without approval. Default rollback.
	OnTimeout string `yaml:"on_timeout"`
}

// Gate is a check that must keep passing while traffic moves. Exactly one of
// CloudWatch and Probe is set.
type Gate struct {
	Pos Pos `yaml:"-"`
	// Name identifies the gate in steps, events and reports; same syntax as
	// the plan name.
	Name string `yaml:"name" plan:"required"`
	// Interval is how often the gate is evaluated. Default 30s.
	Interval Duration `yaml:"interval"`
	// For is how long a breach must persist before it counts (seed 004:
	// "for more than 3 consecutive minutes"). Default 0: the first breach
	// counts.
	For Duration `yaml:"for"`
	// OnFailure is rollback or pause. Default rollback.
	OnFailure OnFailure `yaml:"on_failure"`
	// InconclusiveLimit is how many inconclusive measurements in a row
	// (no data yet: ALB counters absent, CloudFront metrics minutes late)
	// are tolerated; the next one pauses the run with the reason.
	// Inconclusive never counts as a pass. Default 0: the first pauses.
	InconclusiveLimit int `yaml:"inconclusive_limit"`
	// DryRun records the gate's verdicts without acting on them, to trial a
	// new gate on a real run. Default false.
	DryRun bool `yaml:"dry_run"`
	// CloudWatch is a metric gate.
	CloudWatch *CloudWatchGate `yaml:"cloudwatch"`
	// Probe is an HTTP gate.
	Probe *ProbeGate `yaml:"probe"`
	// Drain is a drain gate: it passes once the old edge's request rate
	// has stayed under a threshold for a whole window. Runs wait on drain
	// gates before calling the cutover done and before the hold ends.
	Drain *DrainGate `yaml:"drain"`
}

// DrainGate watches the old edge until it is quiet. Exactly one of
// CloudWatch and Prometheus is set.
type DrainGate struct {
	Pos Pos `yaml:"-"`
	// CloudWatch reads the old edge's request count.
	CloudWatch *DrainCloudWatch `yaml:"cloudwatch"`
	// Prometheus reads the old edge's request rate with an instant query.
	Prometheus *DrainPrometheus `yaml:"prometheus"`
	// Threshold is the highest rate that counts as drained: requests per
	// minute for CloudWatch, the query's unit for Prometheus. Default 0.
	Threshold float64 `yaml:"threshold"`
	// Fraction, when set (0 < fraction < 1), makes the threshold that share
	// of the rate measured when the wait starts.
	Fraction float64 `yaml:"fraction"`
	// Window is how long the rate must stay under the threshold. Default 15m.
	Window Duration `yaml:"window"`
	// Timeout bounds the wait before Policy applies. Default 0: no bound.
	Timeout Duration `yaml:"timeout"`
	// Policy is what happens when the edge has not drained by Timeout:
	// wait (keep waiting, the default), pause, or rollback.
	Policy string `yaml:"policy"`
}

// DrainCloudWatch selects the old edge's request metric.
type DrainCloudWatch struct {
	Pos Pos `yaml:"-"`
	// Region of the metric. Default us-east-1 (CloudFront's metrics).
	Region string `yaml:"region"`
	// RoleARN is assumed to read the metric. Optional.
	RoleARN string `yaml:"role_arn"`
	// DistributionID selects AWS/CloudFront Requests.
	DistributionID string `yaml:"distribution_id"`
	// LoadBalancer selects AWS/ApplicationELB RequestCount (app/<name>/<id>
	// or the ARN).
	LoadBalancer string `yaml:"load_balancer"`
	// Period of each datapoint, seconds. Default 60.
	Period int `yaml:"period"`
}

// DrainPrometheus is a Prometheus instant query.
type DrainPrometheus struct {
	Pos Pos `yaml:"-"`
	// URL is the server's base URL. Required.
	URL string `yaml:"url" plan:"required"`
	// Query returns the old edge's rate as one number. Required.
	Query string `yaml:"query" plan:"required"`
}

// CloudWatchGate breaches when a metric (or an expression over metrics)
// compares to Threshold as Comparison says.
type CloudWatchGate struct {
	Pos Pos `yaml:"-"`
	// Region is where the metric lives. Default: the AWS configuration's
	// region; CloudFront metrics exist only in us-east-1.
	Region string `yaml:"region"`
	// RoleARN is an IAM role assumed to read the metric. Optional.
	RoleARN string `yaml:"role_arn"`
	// Metric is a single metric. Exactly one of Metric and Expression is set.
	Metric *Metric `yaml:"metric"`
	// Expression is CloudWatch metric math over Metrics, for example
	// "100*errors/requests".
	Expression string `yaml:"expression"`
	// Metrics are the inputs of Expression, by id (ids start with a
	// lower-case letter, then letters, digits or underscores).
	Metrics map[string]*Metric `yaml:"metrics"`
	// Threshold is the value compared against. Required.
	Threshold float64 `yaml:"threshold" plan:"required"`
	// Comparison is what counts as a breach: >, >=, < or <=. Default ">".
	Comparison string `yaml:"comparison"`
	// Missing is zero, breach or ignore. Default zero.
	Missing Missing `yaml:"missing"`
}

// Metric names one CloudWatch metric and how to aggregate it.
type Metric struct {
	Pos Pos `yaml:"-"`
	// Namespace, for example AWS/ApplicationELB. Required.
	Namespace string `yaml:"namespace" plan:"required"`
	// Name is the metric name, for example HTTPCode_Target_5XX_Count. Required.
	Name string `yaml:"name" plan:"required"`
	// Dimensions select the series, for example LoadBalancer: app/new/456.
	Dimensions map[string]string `yaml:"dimensions"`
	// Stat is Sum, Average, Minimum, Maximum, SampleCount or a percentile
	// such as p99. Required: each metric has one meaningful statistic.
	Stat string `yaml:"stat" plan:"required"`
	// Period in seconds: a multiple of 60, or 1, 5, 10, 20, 30 for
	// high-resolution custom metrics. Default 60.
	Period int `yaml:"period"`
	// Unit optionally restricts the datapoints to one unit.
	Unit string `yaml:"unit"`
}

// ProbeGate breaches when an HTTP request does not get the expected answer.
type ProbeGate struct {
	Pos Pos `yaml:"-"`
	// URL to fetch, http or https; its host is sent as Host and SNI. Required.
	URL string `yaml:"url" plan:"required"`
	// ExpectStatus lists acceptable status codes. Default [200].
	ExpectStatus []int `yaml:"expect_status"`
	// BodyContains, when set, must appear in the response body.
	BodyContains string `yaml:"body_contains"`
	// Header, when set, lists response headers that must have these values.
	Header map[string]string `yaml:"header"`
	// Timeout for one request. Default 5s.
	Timeout Duration `yaml:"timeout"`
}

// Verify says how to tell which edge served a request, so the run can prove
// the old edge stopped serving.
type Verify struct {
	Pos Pos `yaml:"-"`
	// Path fetched through each resolved edge with the real Host and SNI.
	// Default "/".
	Path string `yaml:"path"`
	// Expect is the marker each side answers with. Required, with at least New.
	Expect Expect `yaml:"expect" plan:"required"`
	// Header, when set, reads the marker from this response header instead
	// of the body.
	Header string `yaml:"header"`
	// Samples is the number of requests per resolver and edge. Default 5.
	Samples int `yaml:"samples"`
	// Resolvers are extra DNS resolvers (host or host:port; port 53 is
	// added when missing) asked besides the system one.
	Resolvers []string `yaml:"resolvers"`
	// Hostnames is, in a plan with hostnames, how many of them each verify
	// step checks, spread evenly over the set (first and last included); a
	// number at least the set's size checks every one. Default 20.
	Hostnames int `yaml:"hostnames"`
}

// Expect holds the marker of each side.
type Expect struct {
	Pos Pos `yaml:"-"`
	// Old is the old edge's marker. Optional: without it, any answer that is
	// not New counts as old.
	Old string `yaml:"old"`
	// New is the new edge's marker. Required.
	New string `yaml:"new" plan:"required"`
}

// AliasMove tunes the alias-move strategy.
type AliasMove struct {
	Pos Pos `yaml:"-"`
	// Mode is associate (call AssociateAlias, proved by the _<hostname> TXT
	// record) or wait-for-swap (wait for a move done by AWS support).
	// Default associate.
	Mode string `yaml:"mode"`
	// Timeout bounds the wait for the move to become visible. Default 2h.
	Timeout Duration `yaml:"timeout"`
	// Poll is how often the aliases are read while waiting. Default 5s.
	Poll Duration `yaml:"poll"`
	// Settle is how long to wait after both distributions report Deployed:
	// either may answer the name for a few minutes after a move (AWS).
	// Default 3m.
	Settle Duration `yaml:"settle"`
}

// Bridge configures the bridge strategy.
type Bridge struct {
	Pos Pos `yaml:"-"`
	// Endpoint is the DNS name of the host-rewriting bridge. Required.
	Endpoint string `yaml:"endpoint" plan:"required"`
	// RewriteHost is the Host the bridge sends to the new distribution: one
	// of its alternate domain names. Required.
	RewriteHost string `yaml:"rewrite_host" plan:"required"`
	// Steps are phase 1's weights for the bridge, in percent. Default 1, 10,
	// 50, 90, 100 with a 5m pause after each but the last.
	Steps []Step `yaml:"steps"`
}

// Staging configures the staging strategy (CloudFront continuous
// deployment). Header routing, when set, comes first; then the weight steps;
// then promotion.
type Staging struct {
	Pos Pos `yaml:"-"`
	// Weight is a shorthand for a single step: the share of viewers sent to
	// the staging distribution, 0 < weight <= 0.15. Completed into Steps.
	Weight float64 `yaml:"weight"`
	// Pause goes with Weight: how long gates are watched. Default 10m.
	Pause Duration `yaml:"pause"`
	// Header routes only requests carrying this header to staging.
	Header *StagingHeader `yaml:"header"`
	// Stickiness keeps a viewer on the side it first reached.
	Stickiness *Stickiness `yaml:"stickiness"`
	// Steps are the staging weights, each 0 < weight <= 0.15, increasing.
	Steps []StagingStep `yaml:"steps"`
}

// Maintenance modes.
const (
	// MaintenanceWeight gives every live record set weight 0 and the page
	// weight 255: the page answers as soon as the change is live.
	MaintenanceWeight = "weight"
	// MaintenanceFailover makes the live record the PRIMARY of a failover
	// pair, with HealthCheck, and the page the SECONDARY: the page answers
	// while the health check fails.
	MaintenanceFailover = "failover"
)

// MaintenanceModes lists the accepted maintenance modes.
var MaintenanceModes = []string{MaintenanceWeight, MaintenanceFailover}

// Maintenance configures the maintenance strategy.
type Maintenance struct {
	Pos Pos `yaml:"-"`
	// Mode is weight or failover. Default weight.
	Mode string `yaml:"mode"`
	// HealthCheck is the Route 53 health check id of the live record, the
	// failover PRIMARY. Required by mode failover, refused by mode weight.
	HealthCheck string `yaml:"health_check"`
	// InvertHealthCheck inverts HealthCheck once the failover pair is
	// live, so the page answers at once instead of when the backend goes
	// down; switching off puts the flag back. Mode failover only. Default
	// false.
	InvertHealthCheck bool `yaml:"invert_health_check"`
}

func (m *Maintenance) setDefaults() { m.Mode = MaintenanceWeight }

// StagingHeader is CloudFront's SingleHeader traffic config.
type StagingHeader struct {
	Pos Pos `yaml:"-"`
	// Name must start with aws-cf-cd-. Required.
	Name string `yaml:"name" plan:"required"`
	// Value is matched exactly. Required.
	Value string `yaml:"value" plan:"required"`
}

// Stickiness is CloudFront's SessionStickinessConfig.
type Stickiness struct {
	Pos Pos `yaml:"-"`
	// Idle is how long a session may be idle, 5m–1h. Default 5m.
	Idle Duration `yaml:"idle"`
	// Max is a session's maximum age, 5m–1h and at least Idle. Default 30m.
	Max Duration `yaml:"max"`
}

// StagingStep is one staging weight.
type StagingStep struct {
	Pos Pos `yaml:"-"`
	// Weight is the share of viewers for staging, 0 < weight <= 0.15.
	Weight float64 `yaml:"weight" plan:"required"`
	// Pause is how long gates are watched. Default 0.
	Pause Duration `yaml:"pause"`
	// Gates names the gates watched during this step. Default: all gates.
	Gates []string `yaml:"gates"`
}

// Default returns a plan holding every static default; the fields a user must
// write (name, hostname, zone id, edges) are empty.
func Default() *Plan {
	p := &Plan{}
	p.setDefaults()
	return p
}

// DefaultSteps returns the default weight steps: 1, 10, 50, 90, 100 with a 5m
// pause after each but the last.
func DefaultSteps() []Step {
	ws := []int{1, 10, 50, 90, 100}
	steps := make([]Step, len(ws))
	for i, w := range ws {
		steps[i] = Step{Weight: w}
		if i < len(ws)-1 {
			steps[i].Pause = Duration(5 * time.Minute)
		}
	}
	return steps
}

// setDefaults methods fill a block before its fields are decoded, so only
// what the user did not write keeps its default.

func (p *Plan) setDefaults() {
	p.APIVersion = APIVersion
	p.Kind = Kind
	p.Zone.setDefaults()
	p.TTL.setDefaults()
	p.Hold = Duration(72 * time.Hour)
	p.Brake = Brake{MaxShare: 0.3, MinRecordSets: 10}
}

func (z *Zone) setDefaults() { z.Provider = ProviderRoute53 }

func (t *TSIG) setDefaults() { t.Algorithm = "hmac-sha256" }

func (t *TTL) setDefaults() { t.Cutover = 30 }

func (a *Approve) setDefaults() { a.OnTimeout = OnTimeoutRollback }

func (w *Webhook) setDefaults() { w.Timeout = Duration(10 * time.Second) }

func (g *Gate) setDefaults() {
	g.Interval = Duration(30 * time.Second)
	g.OnFailure = OnFailureRollback
}

func (c *CloudWatchGate) setDefaults() {
	c.Comparison = ">"
	c.Missing = MissingZero
}

func (m *Metric) setDefaults() { m.Period = 60 }

func (pg *ProbeGate) setDefaults() { pg.Timeout = Duration(5 * time.Second) }

func (v *Verify) setDefaults() {
	v.Path = "/"
	v.Samples = 5
	v.Hostnames = 20
}

func (a *AliasMove) setDefaults() {
	a.Mode = "associate"
	a.Timeout = Duration(2 * time.Hour)
	a.Poll = Duration(5 * time.Second)
}

func (s *Staging) setDefaults() { s.Pause = Duration(10 * time.Minute) }

func (s *Stickiness) setDefaults() {
	s.Idle = Duration(5 * time.Minute)
	s.Max = Duration(30 * time.Minute)
}

// complete fills the defaults that depend on other fields, once the whole
// file is decoded.
func (p *Plan) complete() {
	if p.To.IsZero() && p.From.Kind == EdgeCloudFront && p.Strategy == StrategyStaging {
		p.To = p.From
		p.To.Pos = Pos{}
	}
	if p.Strategy == "" && p.IsBulk() {
		p.Strategy = StrategyWeighted
	}
	if p.Strategy == "" {
		switch {
		case p.From.Kind == EdgeCloudFront && p.To.Kind == EdgeCloudFront && p.From.Value == p.To.Value:
			p.Strategy = StrategyStaging
		case p.From.Kind == EdgeCloudFront || p.To.Kind == EdgeCloudFront:
			p.Strategy = StrategyAuto
		case p.Zone.Provider == ProviderRFC2136:
			p.Strategy = StrategyFlip
		default:
			p.Strategy = StrategyWeighted
		}
	}
	if p.Steps == nil && p.Strategy.usesSteps() {
		p.Steps = DefaultSteps()
	}
	if p.Bridge != nil && p.Bridge.Steps == nil {
		p.Bridge.Steps = DefaultSteps()
	}
	if p.Strategy == StrategyAliasMove && p.AliasMove == nil {
		p.AliasMove = &AliasMove{}
		p.AliasMove.setDefaults()
	}
	if p.Strategy == StrategyMaintenance && p.Maintenance == nil {
		p.Maintenance = &Maintenance{}
		p.Maintenance.setDefaults()
	}
	if p.Strategy == StrategyStaging && p.Staging == nil {
		p.Staging = &Staging{}
		p.Staging.setDefaults()
	}
	if s := p.Staging; s != nil && s.Steps == nil {
		w := s.Weight
		if w == 0 && s.Header == nil {
			w = 0.05
		}
		if w != 0 {
			s.Steps = []StagingStep{{Weight: w, Pause: s.Pause}}
		}
	}
	for i := range p.Gates {
		if pg := p.Gates[i].Probe; pg != nil && pg.ExpectStatus == nil {
			pg.ExpectStatus = []int{200}
		}
	}
}

// File is the name the plan was parsed from.
func (p *Plan) File() string { return p.file }

// Warnings returns the problems that did not stop the plan from loading.
func (p *Plan) Warnings() Diagnostics { return append(Diagnostics(nil), p.warnings...) }

// PosOf returns the source position of a field of this plan, given a pointer
// to it (p.PosOf(&p.Gates[1].Interval)); for a field the file did not set it
// returns the zero Pos. It lets later stages report file:line:col.
func (p *Plan) PosOf(field any) Pos {
	return p.positions[field]
}

// has reports whether the file set the field.
func (p *Plan) has(field any) bool {
	_, ok := p.positions[field]
	return ok
}
