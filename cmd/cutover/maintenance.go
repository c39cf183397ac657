package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/maintenance"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/verify"
)

const maintenanceLong = `Put a hostname behind a maintenance page (a 503 with a page) and take it out
again, through Route 53, with the same durable engine as every cutover.

'on' reads the records at the hostname and, in one compare-and-swap change,
puts the page edge next to them:
  --mode weight (default): every live record set gets weight 0 and the page 255
      (simple records become a weighted group): the page answers as soon as
      the change is live, for every client.
  --mode failover: the live record becomes the PRIMARY of a failover pair with
      --health-check, the page the SECONDARY: the page answers while that
      health check fails (take the backend down), or at once with
      --invert-health-check (off puts the flag back).
Then it waits for INSYNC and the TTL resolvers may hold, and, given
--expect-page, verifies through real resolvers that the page answers.
The run keeps the exact record sets it found.

'off' finds that run in the state file and restores those record sets, byte
for byte, with one compare-and-swap change against what the maintenance left:
if someone edited the records meanwhile it refuses and shows both.

The page edge (--page, also --from) is KIND:VALUE: cloudfront:DISTRIBUTION-ID,
alb:DNS-NAME-OR-ARN, or endpoint:DNS-NAME (an S3 website endpoint, served by
CNAME; alias records need a cloudfront or alb page). On AWS the page is a
distribution or S3 website you created, answering 503 (seed 002: S3 behind
CloudFront with the error response turned into a 503).

Exit codes: 0 done, 1 failed, 2 bad input (nothing changed), 3 declined,
4 paused (continue with 'cutover resume NAME').`

const maintenanceExample = `  cutover maintenance on --host api.example.com --zone Z0123456789ABCDEFGHIJ \
      --page alb:maint-123.us-east-1.elb.amazonaws.com --expect-page "Down for maintenance"
  cutover maintenance on --host api.example.com --zone Z0123456789ABCDEFGHIJ \
      --page endpoint:maint.example.com.s3-website-us-east-1.amazonaws.com \
      --mode failover --health-check 0e1d5f3c-6a7b-4c8d-9e0f-123456789abc --invert-health-check --auto-approve
  cutover maintenance status --host api.example.com -o json
  cutover maintenance off --host api.example.com`

// maintenanceFlags are the flags the subcommands share.
type maintenanceFlags struct {
	host, name, statePath, output  string
	expectPage, expectLive, header string
	verifyPath                     string
	samples                        int
	autoApprove                    bool
}

func (f *maintenanceFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.host, "host", "", "the hostname (required)")
	_ = cmd.MarkFlagRequired("host")
	cmd.Flags().StringVar(&f.name, "name", "", "run name (default maint-on|off-<host>-<UTC time>)")
	cmd.Flags().StringVar(&f.expectPage, "expect-page", "", "text in the page's answers (or --header value): verify that the page answers")
	cmd.Flags().StringVar(&f.expectLive, "expect-live", "", "text in the live edge's answers (optional; otherwise anything but the page counts as live)")
	cmd.Flags().StringVar(&f.header, "header", "", "read the markers from this response header instead of the body")
	cmd.Flags().StringVar(&f.verifyPath, "verify-path", "/", "path requested when verifying")
	cmd.Flags().IntVar(&f.samples, "samples", 5, "DNS queries per resolver and requests per edge address when verifying")
	cmd.Flags().BoolVar(&f.autoApprove, "auto-approve", false, "skip the confirmation prompt")
	cmd.Flags().DurationVar(&pollInterval, "poll", pollInterval, "how often propagation and operator requests are checked")
	stateFlag(cmd, &f.statePath)
	outputFlag(cmd, &f.output)
}

func (f *maintenanceFlags) check() error {
	if err := checkOutput(f.output); err != nil {
		return err
	}
	if f.expectLive != "" && f.expectPage == "" {
		return usageError(errors.New("--expect-live goes with --expect-page"))
	}
	if f.samples < 1 {
		return usageError(fmt.Errorf("--samples %d: want at least 1", f.samples))
	}
	return nil
}

// verifyStep is the verification the flags ask for, nil without markers.
func (f *maintenanceFlags) verifyStep() *runbook.Verify {
	if f.expectPage == "" {
		return nil
	}
	return &runbook.Verify{Path: f.verifyPath, Samples: f.samples}
}

// verifier proves which side answers: the page is the runbook's new side.
func (f *maintenanceFlags) verifier() engine.Verifier {
	if f.expectPage == "" {
		return nil
	}
	return verify.New(verify.Options{System: true, NewMarker: f.expectPage, OldMarker: f.expectLive, Header: f.header, Path: f.verifyPath, Samples: f.samples})
}

// progressOut is where progress goes: stdout, or stderr when stdout
// carries JSON.
func (f *maintenanceFlags) progressOut(cmd *cobra.Command) io.Writer {
	if f.output == "json" {
		return cmd.ErrOrStderr()
	}
	return cmd.OutOrStdout()
}

func newMaintenanceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "maintenance on|off|status --host HOST",
		Short:   "Put a hostname behind a 503 maintenance page, and restore its records byte for byte",
		Long:    maintenanceLong,
		Example: maintenanceExample,
		Args:    usageArgs(cobra.NoArgs),
	}
	cmd.AddCommand(newMaintenanceOnCmd(), newMaintenanceOffCmd(), newMaintenanceStatusCmd())
	return cmd
}

func newMaintenanceOnCmd() *cobra.Command {
	var f maintenanceFlags
	var zone, zoneRole, page, from string
	req := maintenance.Request{}
	cmd := &cobra.Command{
		Use:     "on --host HOST --zone ZONE-ID --page KIND:VALUE",
		Short:   "Put the page in front of the hostname (weight override or failover)",
		Long:    maintenanceLong,
		Example: maintenanceExample,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			var err error
			if req.Page, err = parseEdgeFlag("--page", page); err != nil {
				return err
			}
			if from != "" {
				if req.From, err = parseEdgeFlag("--from", from); err != nil {
					return err
				}
			}
			req.Host, req.Name, req.Zone, req.ZoneRoleARN = strings.TrimSuffix(f.host, "."), f.name, strings.TrimPrefix(strings.TrimPrefix(zone, "/"), "hostedzone/"), zoneRole
			req.Verify = f.verifyStep()
			return runMaintenanceOn(cmd, &f, req)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&zone, "zone", "", "hosted zone id (required)")
	_ = cmd.MarkFlagRequired("zone")
	cmd.Flags().StringVar(&zoneRole, "zone-role-arn", "", "IAM role assumed to change the zone (cross-account)")
	cmd.Flags().StringVar(&page, "page", "", "the maintenance page edge, KIND:VALUE (required)")
	_ = cmd.MarkFlagRequired("page")
	cmd.Flags().StringVar(&from, "from", "", "the edge the hostname must point at now, KIND:VALUE (checked when given)")
	cmd.Flags().StringVar(&req.Mode, "mode", runbook.MaintenanceWeight, "weight or failover")
	cmd.Flags().StringVar(&req.HealthCheck, "health-check", "", "Route 53 health check id of the live record (mode failover)")
	cmd.Flags().BoolVar(&req.InvertHealthCheck, "invert-health-check", false, "invert the health check once the failover pair is live, so the page answers now; off puts it back (mode failover)")
	cmd.Flags().Int64Var(&req.CutoverTTL, "ttl", 30, "TTL of the page's CNAME in mode failover")
	return cmd
}

// parseEdgeFlag reads KIND:VALUE.
func parseEdgeFlag(flag, v string) (plan.Edge, error) {
	kind, value, ok := strings.Cut(v, ":")
	e := plan.Edge{Kind: plan.EdgeKind(kind), Value: strings.TrimSuffix(value, ".")}
	switch {
	case !ok || value == "":
		return e, usageError(fmt.Errorf("%s %q: want KIND:VALUE, KIND one of cloudfront, alb, endpoint", flag, v))
	case e.Kind != plan.EdgeCloudFront && e.Kind != plan.EdgeALB && e.Kind != plan.EdgeEndpoint:
		return e, usageError(fmt.Errorf("%s %q: unknown edge kind %q; want cloudfront, alb or endpoint", flag, v, kind))
	}
	if e.Kind == plan.EdgeEndpoint || (e.Kind == plan.EdgeALB && !strings.HasPrefix(e.Value, "arn:")) {
		e.Value = strings.ToLower(e.Value)
	}
	return e, nil
}

func runMaintenanceOn(cmd *cobra.Command, f *maintenanceFlags, req maintenance.Request) error {
	if err := req.Validate(); err != nil {
		return usageError(err)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	zone, err := connect.ZoneProvider(ctx, req.ZoneRoleARN)
	if err != nil {
		return err
	}
	rb, err := maintenance.On(ctx, req, maintenance.Deps{Edges: connect.ObserveDeps(&runbook.Runbook{}).Edges, Zone: zone}, time.Now())
	if err != nil {
		return err
	}
	return confirmAndRun(ctx, cmd, f, rb, "Put "+rb.Hostname+" behind the maintenance page?")
}

func newMaintenanceOffCmd() *cobra.Command {
	var f maintenanceFlags
	cmd := &cobra.Command{
		Use:     "off --host HOST",
		Short:   "Restore the records the maintenance run found, byte for byte",
		Long:    maintenanceLong,
		Example: "  cutover maintenance off --host api.example.com\n  cutover maintenance off --host api.example.com --expect-page \"Down for maintenance\" --auto-approve -o json",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return runMaintenanceOff(cmd, &f)
		},
	}
	f.register(cmd)
	return cmd
}

func runMaintenanceOff(cmd *cobra.Command, f *maintenanceFlags) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rb, err := compileMaintenanceOff(ctx, f)
	if err != nil {
		return err
	}
	if hasVerify(rb) && f.expectPage == "" {
		return usageError(fmt.Errorf("run %s verified the page; give --expect-page (and --expect-live) so switching off can verify the live edge answers again", rb.MaintenanceOf))
	}
	return confirmAndRun(ctx, cmd, f, rb, "Restore the records of "+rb.Hostname+" from before run "+rb.MaintenanceOf+"?")
}

// compileMaintenanceOff finds the active maintenance of the host and
// compiles its off run against what the zone serves now.
func compileMaintenanceOff(ctx context.Context, f *maintenanceFlags) (*runbook.Runbook, error) {
	s, err := openStore(f.statePath)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	_, on, err := maintenance.Active(ctx, s, f.host)
	if err != nil {
		return nil, usageError(err)
	}
	zone, err := connect.ZoneProvider(ctx, on.ZoneRoleARN)
	if err != nil {
		return nil, err
	}
	return maintenance.Off(ctx, s, zone, f.host, f.name, time.Now())
}

func hasVerify(rb *runbook.Runbook) bool {
	for _, s := range rb.Steps {
		if s.Verify != nil {
			return true
		}
	}
	return false
}

// confirmAndRun shows the runbook, asks, records the run and executes it.
func confirmAndRun(ctx context.Context, cmd *cobra.Command, f *maintenanceFlags, rb *runbook.Runbook, question string) error {
	out := f.progressOut(cmd)
	runbook.Render(out, rb, runbook.Target{}, runbook.Target{}, observe.AssumedInSync)
	if !f.autoApprove && !confirm(cmd.InOrStdin(), out, question) {
		return &exitError{code: exitCanceled, err: errors.New("maintenance declined; nothing was changed")}
	}
	s, err := openStore(f.statePath)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := engine.Create(ctx, s, rb, "", "maintenance", time.Now()); err != nil {
		if errors.Is(err, store.ErrExists) {
			return usageError(fmt.Errorf("a run named %s exists; pick another --name", rb.Name))
		}
		return fmt.Errorf("creating run %s: %w", rb.Name, err)
	}
	e, done, err := engineFor(ctx, s, rb, out, func(o *engine.Options) {
		o.Poll = pollInterval
		o.Verifier = f.verifier()
	})
	if err != nil {
		return err
	}
	defer done()
	run, err := e.Run(ctx, rb.Name)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "interrupted: run %s stays at step %d; continue with `cutover resume %s`\n", rb.Name, run.Step+1, rb.Name)
			return &exitError{code: exitCanceled, err: ctx.Err()}
		}
		return err
	}
	if f.output == "json" {
		if err := writeMaintenanceJSON(cmd.OutOrStdout(), run, rb); err != nil {
			return err
		}
	}
	return runExit(run)
}

// maintenanceReport is what -o json prints: the run and the records it
// found (on) or restored (off).
type maintenanceReport struct {
	Run           string          `json:"run"`
	State         store.RunState  `json:"state"`
	Reason        string          `json:"reason,omitempty"`
	Hostname      string          `json:"hostname"`
	Strategy      string          `json:"strategy"`
	MaintenanceOf string          `json:"maintenance_of,omitempty"`
	Original      json.RawMessage `json:"original"`
	Now           json.RawMessage `json:"now"`
}

func writeMaintenanceJSON(w io.Writer, run store.Run, rb *runbook.Runbook) error {
	orig, _ := json.Marshal(rb.Original)
	now := run.Data["live"]
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(maintenanceReport{Run: run.Name, State: run.State, Reason: run.Reason, Hostname: rb.Hostname, Strategy: rb.Strategy, MaintenanceOf: rb.MaintenanceOf, Original: orig, Now: now})
}

func newMaintenanceStatusCmd() *cobra.Command {
	var host, statePath, output string
	cmd := &cobra.Command{
		Use:     "status --host HOST",
		Short:   "Say whether the hostname is in maintenance, since when, and what off restores",
		Example: "  cutover maintenance status --host api.example.com -o json",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			s, err := openStore(statePath)
			if err != nil {
				return err
			}
			defer s.Close()
			run, rb, err := maintenance.Active(cmd.Context(), s, host)
			return printMaintenanceStatus(cmd.OutOrStdout(), host, run, rb, err, output)
		},
	}
	cmd.Flags().StringVar(&host, "host", "", "the hostname (required)")
	_ = cmd.MarkFlagRequired("host")
	stateFlag(cmd, &statePath)
	outputFlag(cmd, &output)
	return cmd
}

func printMaintenanceStatus(w io.Writer, host string, run store.Run, rb *runbook.Runbook, err error, output string) error {
	on := err == nil
	if err != nil && !errors.Is(err, maintenance.ErrNotOn) {
		return err
	}
	if output == "json" {
		v := map[string]any{"host": strings.TrimSuffix(host, "."), "on": on}
		if on {
			v["run"], v["since"], v["restores"] = run.Name, run.UpdatedAt.UTC(), rb.Original
		} else {
			v["detail"] = err.Error()
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	if !on {
		fmt.Fprintf(w, "%s: not in maintenance (%v)\n", strings.TrimSuffix(host, "."), err)
		return nil
	}
	fmt.Fprintf(w, "%s: in maintenance since %s (run %s); `cutover maintenance off --host %s` restores:\n", strings.TrimSuffix(host, "."), run.UpdatedAt.Local().Format(time.RFC3339), run.Name, strings.TrimSuffix(host, "."))
	for _, r := range rb.Original {
		fmt.Fprintf(w, "  %s\n", r)
	}
	return nil
}

func init() { rootCmd.AddCommand(newMaintenanceCmd()) }
