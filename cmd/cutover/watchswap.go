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

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/watchswap"
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
		Args: usageArgs(cobra.NoArgs),
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
	provider, err := connect.ZoneProvider(ctx, o.zoneRole)
	if err != nil {
		return err
	}
	cfg, err := connect.Config(ctx, "", o.role)
	if err != nil {
		return fmt.Errorf("cloudfront credentials: %w", err)
	}
	limiter := cloudfront.SharedLimiter()
	if o.maxRPS != cloudfront.DefaultRequestsPerSecond {
		limiter = cloudfront.NewLimiter(o.maxRPS, int(math.Ceil(o.maxRPS)), nil)
	}
	client := cloudfront.New(cfg, cloudfront.Options{Limiter: limiter})
	res, err := watchswap.Run(ctx, provider, client, watchswap.Options{
		Distribution: o.distribution, Zone: o.zone, From: o.from, To: o.to, Name: o.name,
		Timeout: o.timeout, Poll: o.poll, DryRun: o.dryRun,
		RequestRate: limiter.Rate(), Progress: progress,
	})
	if err != nil {
		var ie *watchswap.InputError
		if errors.As(err, &ie) {
			return usageError(err)
		}
		return err
	}
	return printWatchSwap(out, o.output, *res)
}

func printWatchSwap(w io.Writer, format string, r watchswap.Result) error {
	if format == "json" {
		return writeJSONOut(w, r)
	}
	stamp := func(t *time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	if r.DryRun {
		fmt.Fprintf(w, "dry run: nothing watched, nothing changed\n")
		fmt.Fprintf(w, "distribution %s holds %s now: %v\n", r.Distribution, strings.TrimSuffix(r.Name, "."), r.AliasThere)
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
