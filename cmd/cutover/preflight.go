package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/gate/probe"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/preflight"
)

// checkFlags reach the servers the wire checks ask (the zone's delegation,
// the new edge's marker).
type checkFlags struct {
	resolver, scheme, caFile string
	port                     int
	timeout, window          time.Duration
	threshold                float64
	waive                    []string
}

func (f *checkFlags) register(fl *pflag.FlagSet, waive bool) {
	fl.StringVar(&f.resolver, "resolver", "", "DNS server (host or host:port) asked for the zone's delegation and the new edge's address (default: the plan's first verify resolver)")
	fl.StringVar(&f.scheme, "preflight-scheme", "https", "scheme of the marker fetch from the new edge: https or http")
	fl.IntVar(&f.port, "preflight-port", 0, "port of the marker fetch (default 443 for https, 80 for http)")
	fl.StringVar(&f.caFile, "ca", "", "PEM file of extra CA certificates trusted by the marker fetch (a lab CA)")
	fl.DurationVar(&f.timeout, "preflight-timeout", 5*time.Second, "bound on one DNS exchange or request of the checks")
	if waive {
		fl.StringArrayVar(&f.waive, "waive", nil, "let a failing check pass by its name (repeatable); the waiver is recorded in the run's events")
	}
}

func (f *checkFlags) options() (preflight.Options, error) {
	o := preflight.Options{Scheme: f.scheme, Port: f.port, Timeout: f.timeout, TrafficWindow: f.window, MinRequests: f.threshold}
	if f.scheme != "" && f.scheme != "http" && f.scheme != "https" {
		return o, usageError(fmt.Errorf("--preflight-scheme %q: want http or https", f.scheme))
	}
	if f.resolver != "" {
		o.Resolver = probe.WithPort(f.resolver)
	}
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return o, usageError(fmt.Errorf("reading --ca: %w", err))
		}
		o.RootCAs = x509.NewCertPool()
		if !o.RootCAs.AppendCertsFromPEM(pem) {
			return o, usageError(fmt.Errorf("--ca %s: no PEM certificate", f.caFile))
		}
	}
	return o, nil
}

// runChecks compiles the plan and runs its preflight (or, with
// decommission, its decommission) checks, waivers applied.
func runChecks(ctx context.Context, c *compiled, f checkFlags, decommission bool) (preflight.Report, error) {
	o, err := f.options()
	if err != nil {
		return preflight.Report{}, err
	}
	p := c.Plan
	role := p.To.RoleARN
	if decommission {
		role = p.From.RoleARN
	}
	w, err := connect.CheckWorld(ctx, p, role)
	if err != nil {
		return preflight.Report{}, err
	}
	in := preflight.Input{Plan: p, From: c.From, To: c.To}
	if c.Runbook != nil && c.Runbook.IsBulk() {
		in.Hosts = c.Runbook.Bulk.Hosts
	}
	var rep preflight.Report
	if decommission {
		rep = preflight.Decommission(ctx, in, w, o)
	} else {
		rep = preflight.Preflight(ctx, in, w, o)
	}
	if err := rep.Waive(f.waive); err != nil {
		return rep, usageError(err)
	}
	return rep, nil
}

// checkedPlan is where plan, preflight and decommission-check start: the
// output format checked, the plan compiled (with decommission, only its
// edges resolved: resolvePlan) and its checks run.
func checkedPlan(ctx context.Context, file, output string, f checkFlags, decommission bool) (*compiled, preflight.Report, error) {
	if err := checkOutput(output); err != nil {
		return nil, preflight.Report{}, err
	}
	load := compilePlan
	if decommission {
		load = resolvePlan
	}
	c, err := load(ctx, file)
	if err != nil {
		return nil, preflight.Report{}, err
	}
	rep, err := runChecks(ctx, c, f, decommission)
	return c, rep, err
}

// checksRunE runs preflight (or, with decommission, decommission-check):
// the report printed, exit 1 while a check fails unwaived.
func checksRunE(file, output *string, f *checkFlags, decommission bool) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		_, rep, err := checkedPlan(cmd.Context(), *file, *output, *f, decommission)
		if err != nil {
			return err
		}
		if err := printReport(cmd.OutOrStdout(), rep, *output); err != nil {
			return err
		}
		return reportExit(rep)
	}
}

func printReport(w io.Writer, rep preflight.Report, output string) error {
	if output == "json" {
		return writeJSONOut(w, rep)
	}
	return rep.WriteText(w)
}

// reportExit is exit 1 while any check fails unwaived.
func reportExit(rep preflight.Report) error {
	if failed := rep.Failed(); len(failed) > 0 {
		names := make([]string, len(failed))
		for i, r := range failed {
			names[i] = r.Name
		}
		return &exitError{code: exitFailure, err: fmt.Errorf("%s failed: %s", rep.Kind, strings.Join(names, ", "))}
	}
	return nil
}

const preflightLong = `preflight does the risky checks before anything touches DNS, and shows each
as PASS, WARN or FAIL with its evidence: the value read and from which API or
server.

  cert-issued, cert-covers, cert-expiry   the new edge's ACM certificate: ISSUED,
                                          covering the hostname (a wildcard covers
                                          one label), not expiring within the hold
  listener, targets-healthy               the new load balancer: a listener, every
                                          target healthy (not initial or draining)
  distribution-deployed, -enabled, -cert  the new distribution: Deployed, enabled,
  alias-conflict                          a certificate, no one else holding the alias
  zone-contains, zone-shadow,             the zone really serves the hostname: inside
  zone-delegation                         it, no other zone shadows it, the parent
                                          delegates to its name servers
  ttl                                     the current TTL and the TTL-prep wait it forces
  record-owner                            external-dns (heritage=external-dns) or
                                          another controller owns the record
  marker                                  the new edge answers the plan's verify path
                                          with the real Host and SNI

It changes nothing. 'cutover apply' runs the same checks first; any FAIL stops it
unless waived by name with --waive, and the waiver is recorded in the run's events.

Exit status: 0 when no check fails (or every failure is waived), 1 otherwise,
2 on a bad plan or flags.`

func newPreflightCmd() *cobra.Command {
	var file, output string
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "preflight -f PLAN",
		Short: "Check, before any DNS change, that the new edge, the zone and the record are ready",
		Long:  preflightLong,
		Example: `  cutover preflight -f examples/weighted.yaml
  cutover preflight -f plan.yaml --resolver 1.1.1.1 -o json | jq '.results[] | select(.status=="FAIL")'
  cutover preflight -f plan.yaml --waive record-owner`,
		Args: usageArgs(cobra.NoArgs),
		RunE: checksRunE(&file, &output, &f, false),
	}
	planFileFlag(cmd, &file)
	outputFlag(cmd, &output)
	f.register(cmd.Flags(), true)
	return cmd
}

const decommissionLong = `decommission-check says whether the plan's old edge can be destroyed: a
checklist with evidence, as at the end of a run's hold.

  old-records        no record in the account's zones still points at the old edge
                     (CNAME, alias, weighted leftovers, even at weight 0)
  old-health-checks  no Route 53 health check still probes it
  old-alarms         no CloudWatch alarm is still scoped to it (DescribeAlarms
                     dimensions: DistributionId, LoadBalancer)
  old-traffic        its request rate over --window is at the plan's drain
                     threshold (or --threshold requests/min)

It changes nothing. Exit status: 0 when every item passes, 1 while any fails,
2 on a bad plan or flags.`

func newDecommissionCheckCmd() *cobra.Command {
	var file, output string
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "decommission-check -f PLAN",
		Short: "Check that nothing still points at, alarms on or sends traffic to the old edge",
		Long:  decommissionLong,
		Example: `  cutover decommission-check -f examples/weighted.yaml
  cutover decommission-check -f plan.yaml --window 1h -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: checksRunE(&file, &output, &f, true),
	}
	planFileFlag(cmd, &file)
	outputFlag(cmd, &output)
	cmd.Flags().DurationVar(&f.window, "window", 15*time.Minute, "how far back the old edge's requests are summed")
	cmd.Flags().Float64Var(&f.threshold, "threshold", 0, "requests per minute that still count as drained, when the plan has no drain gate")
	return cmd
}

// resolvePlan reads a plan and resolves its edges without compiling the
// runbook: after the move, the zone no longer holds what a runbook starts
// from.
func resolvePlan(ctx context.Context, file string) (*compiled, error) {
	p, digest, err := loadPlan(file)
	if err != nil {
		return nil, err
	}
	from, to, err := observe.Targets(ctx, p, connect.ObserveDeps(observe.Access(p)))
	if err != nil {
		return nil, err
	}
	return &compiled{Compiled: &observe.Compiled{Plan: p, From: from, To: to}, digest: digest}, nil
}

func init() { rootCmd.AddCommand(newPreflightCmd(), newDecommissionCheckCmd()) }
