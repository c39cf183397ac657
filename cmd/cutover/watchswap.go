package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/edge/cloudfront"
)

// watchSwapOptions are the flags of `cutover watch-swap`.
type watchSwapOptions struct {
	distribution, zone, from, to, name string
	timeout, poll                      time.Duration
	maxRPS                             float64
	dryRun                             bool
	output                             string
	role, zoneRole                     string
}

// watchSwapResult is the timeline watch-swap prints.
type watchSwapResult struct {
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
}

// inSyncLimit bounds the wait for Route 53 propagation; Route 53 normally
// reports INSYNC within a minute.
const inSyncLimit = 15 * time.Minute

func newWatchSwapCmd() *cobra.Command {
	o := watchSwapOptions{timeout: 2 * time.Hour, poll: cloudfront.DefaultWatchInterval, maxRPS: cloudfront.DefaultRequestsPerSecond, output: "text"}
	cmd := &cobra.Command{
		Use:   "watch-swap --distribution ID --zone ZONE --from OLD_DOMAIN --to NEW_DOMAIN --name HOSTNAME",
		Short: "Wait for an alias move to land on a distribution, then repoint DNS at once",
		Long: `When AWS Support (or anyone with AssociateAlias) moves an alternate domain name
from one CloudFront distribution to another, viewers whose DNS still points at the
old distribution start failing TLS until the record follows. watch-swap closes
that gap: it reads the record at --name (an A/AAAA alias or a CNAME to --from;
anything else is refused and nothing is changed), polls --distribution until the
alias appears on it, and then applies ONE compare-and-swap change that points the
same record types at --to, waits for Route 53 to report INSYNC, and prints the
timeline: when the swap was seen, when the change was submitted, the latency
between them, and when it was INSYNC.

Polling is fast (--poll) but never above --max-rps CloudFront requests a second
for the whole process; CloudFront publishes no control-plane limit, so the
default is a conservative 5. Throttling slows the watch down; it does not end it.

Exit codes: 0 the record points at --to; 1 the swap did not come before --timeout
(nothing changed), or the record was edited meanwhile (both versions shown,
nothing changed), or an AWS call failed; 2 bad input or a record that does not
point at --from (nothing changed).`,
		Example: `  # The five arguments of the classic swap-watching script, as flags:
  cutover watch-swap --distribution EZDLMTR1D3MHD --zone Z00646902JW6C5QG3Q2NG \
    --from d2szizvz5rw5zj.cloudfront.net. --to d2mz62fpvuge8k.cloudfront.net. \
    --name www.example.com

  # Check the inputs and show the change without watching:
  cutover watch-swap --distribution EZDLMTR1D3MHD --zone /hostedzone/Z00646902JW6C5QG3Q2NG \
    --from d2szizvz5rw5zj.cloudfront.net --to d2mz62fpvuge8k.cloudfront.net \
    --name www.example.com. --dry-run -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWatchSwap(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.distribution, "distribution", "", "id of the distribution the alias moves to (required)")
	f.StringVar(&o.zone, "zone", "", "Route 53 hosted zone id, with or without /hostedzone/ (required)")
	f.StringVar(&o.from, "from", "", "domain the record points at now: the old distribution's *.cloudfront.net name (required)")
	f.StringVar(&o.to, "to", "", "domain to point the record at: --distribution's *.cloudfront.net name (required)")
	f.StringVar(&o.name, "name", "", "the hostname (the alias being moved), with or without the trailing dot (required)")
	f.DurationVar(&o.timeout, "timeout", o.timeout, "give up (changing nothing) if the alias has not arrived by then")
	f.DurationVar(&o.poll, "poll", o.poll, "pause between CloudFront polls, and between Route 53 INSYNC checks (at least 1s)")
	f.Float64Var(&o.maxRPS, "max-rps", o.maxRPS, "CloudFront request budget per second for this process")
	f.BoolVar(&o.dryRun, "dry-run", false, "check the inputs and print the change, without watching or changing anything")
	f.StringVar(&o.role, "role", "", "IAM role to assume for CloudFront (cross-account)")
	f.StringVar(&o.zoneRole, "zone-role", "", "IAM role to assume for Route 53 (cross-account)")
	outputFlag(cmd, &o.output)
	for _, name := range []string{"distribution", "zone", "from", "to", "name"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func runWatchSwap(ctx context.Context, out, progress io.Writer, o watchSwapOptions) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	if o.timeout <= 0 || o.poll <= 0 || o.maxRPS <= 0 {
		return usageError(errors.New("--timeout, --poll and --max-rps must be positive"))
	}
	zone := strings.TrimPrefix(strings.TrimSpace(o.zone), "/hostedzone/")
	name, from, to := dns.Fqdn(o.name), dns.Fqdn(o.from), dns.Fqdn(o.to)
	if from == to {
		return usageError(fmt.Errorf("--from and --to are both %s", from))
	}
	provider, err := zoneProvider(ctx, o.zoneRole)
	if err != nil {
		return err
	}
	cfg, err := awsConfig(ctx, "us-east-1", o.role)
	if err != nil {
		return fmt.Errorf("cloudfront credentials: %w", err)
	}
	limiter := cloudfront.SharedLimiter()
	if o.maxRPS != cloudfront.DefaultRequestsPerSecond {
		limiter = cloudfront.NewLimiter(o.maxRPS, int(math.Ceil(o.maxRPS)), nil)
	}
	client := cloudfront.New(cfg, cloudfront.Options{Limiter: limiter})

	// Read and check everything before watching: a typo should fail now,
	// not two hours from now.
	records, err := provider.Records(ctx, zone, name)
	if err != nil {
		return err
	}
	changes, err := swapChanges(records, name, from, to)
	if err != nil {
		return usageError(err)
	}
	dist, err := client.Distribution(ctx, o.distribution)
	if err != nil {
		return err
	}
	if dns.Fqdn(dist.DomainName) != to {
		return usageError(fmt.Errorf("--to %s is not the domain of distribution %s (%s)", to, dist.ID, dns.Fqdn(dist.DomainName)))
	}
	res := watchSwapResult{Name: name, Zone: zone, Distribution: dist.ID, From: from, To: to, DryRun: o.dryRun, Changes: changes}
	if o.dryRun {
		return printWatchSwap(out, o.output, res, dist.HasAlias(name))
	}

	fmt.Fprintf(progress, "watching distribution %s for alias %s (poll %s, at most %g req/s, timeout %s)\n",
		dist.ID, strings.TrimSuffix(name, "."), o.poll, limiter.Rate(), o.timeout)
	lastReport := time.Now() // the first progress line comes after 30 s
	seen, err := client.WatchAlias(ctx, dist.ID, name, cloudfront.WatchOptions{
		Interval: o.poll, Timeout: o.timeout,
		Progress: func(p cloudfront.WatchProgress) {
			if p.Err == nil && time.Since(lastReport) < 30*time.Second {
				return
			}
			lastReport = time.Now()
			line := fmt.Sprintf("still waiting after %s: %d polls", p.Elapsed.Round(time.Second), p.Polls)
			if p.Throttled > 0 {
				line += fmt.Sprintf(", %d throttled", p.Throttled)
			}
			if p.Err != nil {
				line += fmt.Sprintf(", last poll failed (next in %s): %v", p.Interval, p.Err)
			}
			fmt.Fprintln(progress, line)
		},
	})
	if err != nil {
		if errors.Is(err, cloudfront.ErrSwapTimeout) {
			return &exitError{code: exitFailure, err: fmt.Errorf("%w; nothing changed", err)}
		}
		return fmt.Errorf("%w; nothing changed", err)
	}
	res.SwapSeenAt = &seen
	fmt.Fprintf(progress, "alias %s is on distribution %s; repointing %s at %s\n", strings.TrimSuffix(name, "."), dist.ID, name, to)

	cs := dns.ChangeSet{Zone: zone, Comment: fmt.Sprintf("cutover watch-swap: %s follows its alias to %s", name, dist.ID), Changes: changes}
	id, err := provider.Apply(ctx, cs)
	submitted := time.Now()
	if err != nil {
		// A *dns.ConflictError shows what we expected and what is there.
		return fmt.Errorf("the alias moved at %s but the record was not repointed: %w", seen.Format(time.RFC3339Nano), err)
	}
	res.SubmittedAt, res.ChangeID = &submitted, id
	ms := float64(submitted.Sub(seen).Microseconds()) / 1000
	res.LatencyMS = &ms

	if checker, ok := provider.(dns.InSyncChecker); ok && id != "" {
		at, err := waitInSync(ctx, checker, id, max(o.poll, time.Second))
		if err != nil {
			return fmt.Errorf("change %s was submitted at %s but is not INSYNC: %w", id, submitted.Format(time.RFC3339Nano), err)
		}
		res.InSyncAt = &at
	}
	// Verify, then report: the record must now point at --to.
	after, err := provider.Records(ctx, zone, name)
	if err != nil {
		return fmt.Errorf("verifying %s after the change: %w", name, err)
	}
	for _, c := range changes {
		if !containsRecord(after, *c.New) {
			return fmt.Errorf("verifying %s after the change: %s is not served", name, c.New)
		}
	}
	return printWatchSwap(out, o.output, res, true)
}

// swapChanges builds the compare-and-swap: every simple A, AAAA or CNAME
// record at name must point at from, and each is replaced by the same
// record pointing at to.
func swapChanges(records []dns.RecordSet, name, from, to string) ([]dns.Change, error) {
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

func waitInSync(ctx context.Context, c dns.InSyncChecker, id string, poll time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, inSyncLimit)
	defer cancel()
	for {
		ok, err := c.InSync(ctx, id)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			return time.Now(), nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return time.Time{}, ctx.Err()
		case <-t.C:
		}
	}
}

func printWatchSwap(w io.Writer, format string, r watchSwapResult, aliasThere bool) error {
	if format == "json" {
		return writeJSONOut(w, r)
	}
	stamp := func(t *time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	if r.DryRun {
		fmt.Fprintf(w, "dry run: nothing watched, nothing changed\n")
		fmt.Fprintf(w, "distribution %s holds %s now: %v\n", r.Distribution, strings.TrimSuffix(r.Name, "."), aliasThere)
		fmt.Fprintf(w, "once it does, one change to zone %s:\n", r.Zone)
		for _, c := range r.Changes {
			fmt.Fprintf(w, "  - %s\n  + %s\n", c.Old, c.New)
		}
		return nil
	}
	fmt.Fprintf(w, "swap seen        %s  (alias on %s)\n", stamp(r.SwapSeenAt), r.Distribution)
	fmt.Fprintf(w, "change submitted %s  (%.1f ms after the swap was seen; change %s)\n", stamp(r.SubmittedAt), *r.LatencyMS, r.ChangeID)
	if r.InSyncAt != nil {
		fmt.Fprintf(w, "INSYNC           %s\n", stamp(r.InSyncAt))
	}
	for _, c := range r.Changes {
		fmt.Fprintf(w, "  - %s\n  + %s\n", c.Old, c.New)
	}
	fmt.Fprintf(w, "%s now points at %s\n", r.Name, r.To)
	return nil
}

func init() {
	rootCmd.AddCommand(newWatchSwapCmd())
}
