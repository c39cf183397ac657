package watchswap

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/edge/cloudfront"
)

// CDN reads a distribution and watches for an alias to arrive on it.
type CDN interface {
	Distribution(ctx context.Context, id string) (cloudfront.Distribution, error)
	WatchAlias(ctx context.Context, targetID, alias string, o cloudfront.WatchOptions) (time.Time, error)
}

var _ CDN = (*cloudfront.Client)(nil)

// Options say which record follows which alias.
type Options struct {
	// Distribution is the id of the distribution the alias moves to.
	Distribution string
	// Zone is the hosted zone id, with or without /hostedzone/.
	Zone string
	// From is the domain the record points at now, To the one it is
	// repointed at (Distribution's own domain); Name is the hostname.
	// Each may be given with or without the trailing dot.
	From, To, Name string
	// Timeout ends the watch, changing nothing; Poll is the pause between
	// CloudFront polls and between INSYNC checks (at least 1s for those).
	Timeout, Poll time.Duration
	// DryRun checks the inputs and returns the change without watching.
	DryRun bool
	// RequestRate is the CloudFront request budget, shown in the first
	// progress line.
	RequestRate float64
	// Progress receives a line now and then while the watch goes on;
	// nil discards them.
	Progress io.Writer
	// Clock times the run; default the wall clock.
	Clock clock.Clock
}

// Result is the timeline of a swap.
type Result struct {
	Name         string       `json:"name"`
	Zone         string       `json:"zone"`
	Distribution string       `json:"distribution"`
	From         string       `json:"from"`
	To           string       `json:"to"`
	DryRun       bool         `json:"dry_run,omitempty"`
	SwapSeenAt   *time.Time   `json:"swap_seen_at,omitempty"`
	SubmittedAt  *time.Time   `json:"change_submitted_at,omitempty"`
	LatencyMS    *float64     `json:"latency_ms,omitempty"`
	InSyncAt     *time.Time   `json:"insync_at,omitempty"`
	ChangeID     string       `json:"change_id,omitempty"`
	Changes      []dns.Change `json:"changes"`
	// AliasThere is whether Distribution held the alias when the run
	// ended (before the watch, in a dry run).
	AliasThere bool `json:"-"`
}

// InputError is bad input, found before anything was watched or changed:
// a record that does not point at From, a To that is not Distribution's
// domain.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputError(format string, a ...any) error { return &InputError{Err: fmt.Errorf(format, a...)} }

// InSyncLimit bounds the wait for Route 53 propagation; Route 53 normally
// reports INSYNC within a minute.
const InSyncLimit = 15 * time.Minute

// Run checks everything, watches for the alias, repoints the record and
// verifies it. A swap that does not come before the timeout fails with
// cloudfront.ErrSwapTimeout; a record edited meanwhile with the
// provider's *dns.ConflictError; either way nothing was changed.
func Run(ctx context.Context, zone dns.Provider, cdn CDN, o Options) (*Result, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	res, err := check(ctx, zone, cdn, o)
	if err != nil || o.DryRun {
		return res, err
	}
	name := res.Name
	fmt.Fprintf(o.Progress, "watching distribution %s for alias %s (poll %s, at most %g req/s, timeout %s)\n",
		res.Distribution, strings.TrimSuffix(name, "."), o.Poll, o.RequestRate, o.Timeout)
	seen, err := cdn.WatchAlias(ctx, res.Distribution, name, cloudfront.WatchOptions{
		Interval: o.Poll, Timeout: o.Timeout, Progress: reporter(o),
	})
	if err != nil {
		return nil, fmt.Errorf("%w; nothing changed", err)
	}
	res.SwapSeenAt, res.AliasThere = &seen, true
	fmt.Fprintf(o.Progress, "alias %s is on distribution %s; repointing %s at %s\n", strings.TrimSuffix(name, "."), res.Distribution, name, res.To)
	if err := repoint(ctx, zone, o, res); err != nil {
		return nil, err
	}
	return res, nil
}

// check reads and checks everything before watching: a typo should fail
// now, not two hours from now.
func check(ctx context.Context, zone dns.Provider, cdn CDN, o Options) (*Result, error) {
	zoneID := strings.TrimPrefix(strings.TrimSpace(o.Zone), "/hostedzone/")
	name, from, to := dns.Fqdn(o.Name), dns.Fqdn(o.From), dns.Fqdn(o.To)
	if from == to {
		return nil, inputError("--from and --to are both %s", from)
	}
	records, err := zone.Records(ctx, zoneID, name)
	if err != nil {
		return nil, err
	}
	changes, err := SwapChanges(records, name, from, to)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	dist, err := cdn.Distribution(ctx, o.Distribution)
	if err != nil {
		return nil, err
	}
	if dns.Fqdn(dist.DomainName) != to {
		return nil, inputError("--to %s is not the domain of distribution %s (%s)", to, dist.ID, dns.Fqdn(dist.DomainName))
	}
	return &Result{Name: name, Zone: zoneID, Distribution: dist.ID, From: from, To: to, DryRun: o.DryRun,
		Changes: changes, AliasThere: dist.HasAlias(name)}, nil
}

// reporter writes a progress line every 30 s of watching, and after
// every failed poll.
func reporter(o Options) func(cloudfront.WatchProgress) {
	lastReport := o.Clock.Now() // the first progress line comes after 30 s
	return func(p cloudfront.WatchProgress) {
		if p.Err == nil && o.Clock.Now().Sub(lastReport) < 30*time.Second {
			return
		}
		lastReport = o.Clock.Now()
		line := fmt.Sprintf("still waiting after %s: %d polls", p.Elapsed.Round(time.Second), p.Polls)
		if p.Throttled > 0 {
			line += fmt.Sprintf(", %d throttled", p.Throttled)
		}
		if p.Err != nil {
			line += fmt.Sprintf(", last poll failed (next in %s): %v", p.Interval, p.Err)
		}
		fmt.Fprintln(o.Progress, line)
	}
}

// repoint applies the compare-and-swap, waits for INSYNC and verifies
// that the record now points at To.
func repoint(ctx context.Context, zone dns.Provider, o Options, res *Result) error {
	seen, name := *res.SwapSeenAt, res.Name
	cs := dns.ChangeSet{Zone: res.Zone, Comment: fmt.Sprintf("cutover watch-swap: %s follows its alias to %s", name, res.Distribution), Changes: res.Changes}
	id, err := zone.Apply(ctx, cs)
	submitted := o.Clock.Now()
	if err != nil {
		// A *dns.ConflictError shows what we expected and what is there.
		return fmt.Errorf("the alias moved at %s but the record was not repointed: %w", seen.Format(time.RFC3339Nano), err)
	}
	res.SubmittedAt, res.ChangeID = &submitted, id
	ms := float64(submitted.Sub(seen).Microseconds()) / 1000
	res.LatencyMS = &ms

	if checker, ok := zone.(dns.InSyncChecker); ok && id != "" {
		at, err := waitInSync(ctx, o.Clock, checker, id, max(o.Poll, time.Second))
		if err != nil {
			return fmt.Errorf("change %s was submitted at %s but is not INSYNC: %w", id, submitted.Format(time.RFC3339Nano), err)
		}
		res.InSyncAt = &at
	}
	// Verify, then report: the record must now point at To.
	after, err := zone.Records(ctx, res.Zone, name)
	if err != nil {
		return fmt.Errorf("verifying %s after the change: %w", name, err)
	}
	for _, c := range res.Changes {
		if !containsRecord(after, *c.New) {
			return fmt.Errorf("verifying %s after the change: %s is not served", name, c.New)
		}
	}
	return nil
}

// SwapChanges builds the compare-and-swap: every simple A, AAAA or CNAME
// record at name must point at from, and each is replaced by the same
// record pointing at to.
func SwapChanges(records []dns.RecordSet, name, from, to string) ([]dns.Change, error) {
	var changes []dns.Change
	var others []string
	for _, r := range records {
		if r.Type != "A" && r.Type != "AAAA" && r.Type != "CNAME" {
			continue
		}
		if r.SetIdentifier != "" {
			return nil, fmt.Errorf("%s has %s record sets with routing policies (set %q); watch-swap repoints a simple record only", name, r.Type, r.SetIdentifier)
		}
		old := r
		next := r
		switch {
		case r.Alias != nil && dns.Fqdn(r.Alias.DNSName) == from:
			alias := *r.Alias
			alias.DNSName = to
			next.Alias = &alias
		case r.Alias == nil && r.Type == "CNAME" && len(r.Values) == 1 && dns.Fqdn(r.Values[0]) == from:
			next.Values = []string{to}
		default:
			others = append(others, r.String())
			continue
		}
		changes = append(changes, dns.Change{Old: &old, New: &next})
	}
	if len(others) > 0 {
		return nil, fmt.Errorf("%s does not point at %s; found:\n  %s", name, from, strings.Join(others, "\n  "))
	}
	if len(changes) == 0 {
		return nil, fmt.Errorf("no A, AAAA or CNAME record at %s (want an alias or CNAME to %s)", name, from)
	}
	return changes, nil
}

func containsRecord(rs []dns.RecordSet, want dns.RecordSet) bool {
	for _, r := range rs {
		if r.Equal(want) {
			return true
		}
	}
	return false
}

func waitInSync(ctx context.Context, clk clock.Clock, c dns.InSyncChecker, id string, poll time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, InSyncLimit)
	defer cancel()
	for {
		ok, err := c.InSync(ctx, id)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			return clk.Now(), nil
		}
		if err := clk.Sleep(ctx, poll); err != nil {
			return time.Time{}, err
		}
	}
}
