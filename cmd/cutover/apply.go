package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/preflight"
	"github.com/cutover/cutover/internal/store"
)

// pollInterval is how often a running engine checks propagation and
// operator requests (--poll on apply and resume).
var pollInterval = 2 * time.Second

// reconcileWait is how long to allow for propagation when an interrupted
// run finds its change applied but lost the change id (--reconcile-wait).
var reconcileWait = 60 * time.Second

// leaseTTL is how long a run's lease lasts without renewal (--lease-ttl):
// after a controller dies, another takes its runs over within it.
var leaseTTL = 30 * time.Second

// standby makes `resume` wait for the run's lease instead of leaving the run
// to the controller that holds it (--standby).
var standby bool

// storeOpts choose the run store (--store and the etcd TLS files); every
// command that opens the store takes them.
var storeOpts struct{ url, caCert, cert, key string }

func stateFlag(cmd *cobra.Command, p *string) {
	def, err := store.DefaultPath()
	if err != nil {
		def = "cutover-state.db"
	}
	f := cmd.Flags()
	f.StringVar(p, "state", def, "run state file (bbolt), when --store is not given")
	f.StringVar(&storeOpts.url, "store", "", "run store shared by several controllers: etcd://HOST:PORT,HOST:PORT[/PREFIX] (credentials from ETCDCTL_USER, ETCDCTL_PASSWORD); overrides --state")
	f.StringVar(&storeOpts.caCert, "etcd-cacert", "", "CA bundle that signs the etcd members' certificates (switches to https)")
	f.StringVar(&storeOpts.cert, "etcd-cert", "", "client certificate for etcd")
	f.StringVar(&storeOpts.key, "etcd-key", "", "client key for etcd")
}

func leaseFlag(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&leaseTTL, "lease-ttl", leaseTTL, "how long the run's lease lasts without renewal; another controller takes the run over this long after this one dies")
}

func outputFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "output", "o", "text", "output format: text or json")
}

// planFileFlag adds the required -f/--file of a command that reads a plan.
func planFileFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "file", "f", "", "plan file (required)")
	_ = cmd.MarkFlagRequired("file")
}

func checkOutput(o string) error {
	if o != "text" && o != "json" {
		return usageError(fmt.Errorf("--output %q: want text or json", o))
	}
	return nil
}

func newPlanCmd() *cobra.Command {
	var file, output string
	var checks checkFlags
	cmd := &cobra.Command{
		Use:   "plan -f PLAN",
		Short: "Show what a plan would do, step by step, without changing anything",
		Long: `Read the plan, look at the world it names (the zone's records at the hostname, the
edges' DNS names and alias zones), and print the runbook it compiles to: the
identity each call uses (the caller's credentials, a role and the chain that
reaches it, or an RFC 2136 server and its TSIG key), every record change with
its before and after, every wait with its reason and duration, the predicted
total time and the worst-case rollback time (detection + propagation + TTL),
then the preflight checklist ('cutover preflight'). Nothing is written
anywhere.`,
		Example: `  cutover plan -f examples/weighted.yaml
  cutover plan -f examples/rfc2136-flip.yaml     # a zone on your own DNS servers
  cutover plan -f plan.yaml -o json | jq .runbook.steps
  cutover plan -f plan.yaml -o json | jq .calls  # who each call acts as`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, rep, err := checkedPlan(cmd.Context(), file, output, checks, false)
			if err != nil {
				return err
			}
			return printPlan(cmd.OutOrStdout(), c, &rep, output)
		},
	}
	planFileFlag(cmd, &file)
	outputFlag(cmd, &output)
	checks.register(cmd.Flags(), false)
	return cmd
}

func newApplyCmd() *cobra.Command {
	var file, statePath string
	var autoApprove, force bool
	var checks checkFlags
	var remote remoteFlags
	cmd := &cobra.Command{
		Use:   "apply -f PLAN",
		Short: "Execute a plan: TTL prep, gated shifts, verify, hold, TTL restore",
		Long: `Show the plan and its preflight checklist, ask for confirmation (unless
--auto-approve), then execute it. A failing preflight check stops apply before
anything changes, unless it is waived by name with --waive NAME; the waiver is
recorded in the run's events.

Every transition is saved to the state file before it takes effect, so the
process can be stopped at any moment — Ctrl-C, kill -9, a reboot — and
'cutover apply' (same plan) or 'cutover resume NAME' continues from the recorded
position: no change is applied twice and no wait restarts from zero.

A breached gate rolls back on its own (or pauses, per the gate's on_failure).

The safety brake refuses a plan whose changes touch NS or SOA records, the
zone apex, or more than brake.max_share of the zone's record sets (default 30 %
in zones of 10 or more); 'cutover plan' says so up front, --force overrides.

Exit codes: 0 done, 1 preflight failed, rolled back or failed, 2 bad plan (nothing changed),
3 declined, 4 paused (waits for 'cutover resume' or 'cutover rollback').

With --server, the plan is compiled and executed by that 'cutover serve'
instead: apply shows the runbook the server compiled, asks, submits it and
returns; follow the run with 'cutover status NAME --server URL' or the
server's dashboard.`,
		Example: `  cutover apply -f examples/weighted.yaml
  cutover apply -f plan.yaml --auto-approve --state /var/lib/cutover/state.db
  cutover apply -f plan.yaml --waive record-owner   # external-dns is stopped for the window
  CUTOVER_TOKEN=... cutover apply --server http://127.0.0.1:8080 -f plan.yaml
  ETCDCTL_USER=cutover ETCDCTL_PASSWORD=… cutover apply -f plan.yaml \
    --store etcd://etcd-1:2379,etcd-2:2379,etcd-3:2379 --etcd-cacert ca.pem --etcd-cert client.pem --etcd-key client-key.pem`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if remote.set() {
				return runApplyRemote(cmd, file, autoApprove, force, remote)
			}
			return runApply(cmd, file, statePath, autoApprove, checks, force)
		},
	}
	checks.register(cmd.Flags(), true)
	remote.add(cmd)
	planFileFlag(cmd, &file)
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "skip the confirmation prompt")
	cmd.Flags().BoolVar(&force, "force", false, "apply even when the safety brake refuses the plan")
	cmd.Flags().DurationVar(&pollInterval, "poll", pollInterval, "how often propagation and operator requests are checked")
	cmd.Flags().DurationVar(&reconcileWait, "reconcile-wait", reconcileWait, "after an interruption, how long to allow a change whose id was lost to propagate (Route 53: within 60s)")
	stateFlag(cmd, &statePath)
	leaseFlag(cmd)
	return cmd
}

// runApply starts the plan's run, or continues it when one of that name
// is in progress with the same plan.
func runApply(cmd *cobra.Command, file, statePath string, autoApprove bool, checks checkFlags, force bool) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := cmd.OutOrStdout()
	p, digest, err := loadPlan(file)
	if err != nil {
		return err
	}
	s, err := openStore(statePath)
	if err != nil {
		return err
	}
	defer s.Close()
	existing, err := s.GetRun(ctx, p.Name)
	switch {
	case err == nil && engine.Terminal(existing.State):
		return usageError(fmt.Errorf("run %s already ended (%s at %s); give the plan a new name to run it again", existing.Name, existing.State, existing.UpdatedAt.Local().Format(time.RFC3339)))
	case err == nil:
		if existing.PlanDigest != digest {
			return usageError(fmt.Errorf("run %s is in progress with a different version of the plan (digest %.12s, file now %.12s); resume it with `cutover resume %s` or roll it back", existing.Name, existing.PlanDigest, digest, existing.Name))
		}
		fmt.Fprintf(out, "resuming run %s at step %d (%s)\n", existing.Name, existing.Step+1, existing.State)
	case isNotFound(err):
		if err := createRun(ctx, cmd, s, file, autoApprove, checks, force); err != nil {
			return err
		}
	default:
		return err
	}
	return execute(ctx, cmd, s, p.Name)
}

// createRun shows the compiled plan and its preflight, stops on a failing
// check not waived or on the safety brake (unless --force), asks for
// confirmation and records the new run with its preflight events.
func createRun(ctx context.Context, cmd *cobra.Command, s store.Store, file string, autoApprove bool, checks checkFlags, force bool) error {
	out := cmd.OutOrStdout()
	c, rep, err := checkedPlan(ctx, file, "text", checks, false)
	if err != nil {
		return err
	}
	if err := printPlan(out, c, &rep, "text"); err != nil {
		return err
	}
	// The brake refuses the plan itself (bad input, exit 2) whatever the
	// world's state; a failing preflight check is the world's (exit 1).
	if c.Brake.Engaged() && !force {
		return usageError(fmt.Errorf("safety brake: the plan %s; nothing was changed (review it, then apply with --force)", strings.Join(c.Brake.Reasons, "; ")))
	}
	if err := reportExit(rep); err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("%w; nothing was changed (waive a check with --waive NAME)", err)}
	}
	if !autoApprove && !confirm(cmd.InOrStdin(), out, "Apply this runbook to "+c.Runbook.Subject()+"?") {
		return &exitError{code: exitCanceled, err: errors.New("apply declined; nothing was changed")}
	}
	if _, err := engine.Create(ctx, s, c.Runbook, file, c.digest, time.Now()); err != nil {
		return fmt.Errorf("creating run %s: %w", c.Runbook.Name, err)
	}
	return engine.Record(ctx, s, c.Runbook.Name, preflight.Events(rep)...)
}

// execute runs a stored run to its end (or pause) in this process.
func execute(ctx context.Context, cmd *cobra.Command, s store.Store, name string) error {
	run, err := s.GetRun(ctx, name)
	if err != nil {
		return err
	}
	rb, err := engine.Runbook(run)
	if err != nil {
		return err
	}
	e, done, err := engineFor(ctx, s, rb, cmd.OutOrStdout(), func(o *engine.Options) {
		o.Poll = pollInterval
		o.UnknownChangeSettle = reconcileWait
		// The end of the hold runs the decommission checklist of the plan
		// the run was created from, while that file is unchanged.
		if p, digest, err := loadPlan(run.PlanPath); err == nil && digest == run.PlanDigest {
			o.Decommission = connect.Decommissioner(p, preflight.Options{})
		}
		o.LeaseTTL = leaseTTL
	})
	if err != nil {
		return err
	}
	defer done()
	if standby {
		fmt.Fprintf(cmd.OutOrStdout(), "standby for run %s: taking it over when its lease is free (lease %s, checked every %s)\n", name, leaseTTL, pollInterval)
		run, err = e.Standby(ctx, name, pollInterval)
	} else {
		run, err = e.Run(ctx, name)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "interrupted: run %s stays at step %d; continue with `cutover resume %s`\n", name, run.Step+1, name)
			return &exitError{code: exitCanceled, err: ctx.Err()}
		}
		return err
	}
	return runExit(run)
}

func newRequestCmd(action, short, long string) *cobra.Command {
	var statePath string
	var remote remoteFlags
	var skip bool
	cmd := &cobra.Command{
		Use:     action + " NAME",
		Short:   short,
		Long:    long + "\n\nWith --server, the request goes to that 'cutover serve', which executes the run.",
		Example: fmt.Sprintf("  cutover %s api-move\n  cutover %s api-move --server http://127.0.0.1:8080 --token $(cat state.db.token)", action, action),
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if remote.set() {
				req := action
				if skip {
					req = store.RequestSkip
				}
				return runRequestRemote(cmd, req, args[0], remote)
			}
			ctx := cmd.Context()
			s, err := openStore(statePath)
			if err != nil {
				return err
			}
			defer s.Close()
			if action == "resume" && standby {
				ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
				defer stop()
				return execute(ctx, cmd, s, args[0])
			}
			req := action
			if skip {
				req = store.RequestSkip
			}
			run, err := s.Request(ctx, args[0], req)
			if err != nil {
				if isNotFound(err) {
					return usageError(fmt.Errorf("no run named %s", args[0]))
				}
				return err
			}
			// If no process executes the run, execute it here.
			lease, lerr := s.Acquire(ctx, run.Hostname, store.ProcessOwner(), time.Second)
			if lerr != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%s requested; the process running %s will act on it\n", req, run.Name)
				return nil
			}
			_ = s.Release(ctx, lease)
			if action == "pause" {
				fmt.Fprintf(cmd.OutOrStdout(), "pause recorded; no process is executing %s now, and it stays paused until `cutover resume %s`\n", run.Name, run.Name)
				return nil
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return execute(ctx, cmd, s, run.Name)
		},
	}
	stateFlag(cmd, &statePath)
	remote.add(cmd)
	if action == "promote" {
		cmd.Flags().BoolVar(&skip, "skip-current-step", false, "skip the current waiting step (observe, hold, approval, drain, verify), also when a gate that cannot decide paused the run there")
		cmd.Example = `  cutover promote api-migration                      # approve the approval step, or end the current wait
  cutover promote api-migration --skip-current-step  # go past a step whose gate has no data`
	}
	if action == "resume" {
		cmd.Flags().BoolVar(&standby, "standby", false, "record no request; wait for the run's lease and take the run over when its controller dies or stalls (a second controller on a shared --store)")
	}
	if action != "pause" {
		leaseFlag(cmd)
		cmd.Flags().DurationVar(&pollInterval, "poll", pollInterval, "how often propagation and operator requests are checked, when this process executes the run")
		cmd.Flags().DurationVar(&reconcileWait, "reconcile-wait", reconcileWait, "after an interruption, how long to allow a change whose id was lost to propagate (Route 53: within 60s)")
	}
	return cmd
}

func newStatusCmd() *cobra.Command {
	var statePath, output string
	var events int
	var remote remoteFlags
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Show runs: state, current step, next deadline, reason",
		Long: `Without NAME, list every run of the state file (or of the server, with --server):
its state, step, last update, the reason of a pause, and which controller owns
each run (the holder of its lease, "host:pid"; marked "lease expired" when that
controller died or stalled and another may take the run over). With NAME, show
that run's step, deadlines and recent events.`,
		Example: `  cutover status
  cutover status api-alb-migration -o json
  cutover status api-alb-migration --server http://127.0.0.1:8080
  cutover status --store etcd://etcd-1:2379,etcd-2:2379,etcd-3:2379`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if remote.set() {
				if err := checkOutput(output); err != nil {
					return err
				}
				return runStatusRemote(cmd, args, output, events, remote)
			}
			return runStatus(cmd, args, statePath, output, events)
		},
	}
	remote.add(cmd)
	stateFlag(cmd, &statePath)
	outputFlag(cmd, &output)
	cmd.Flags().IntVar(&events, "events", 10, "how many recent events to show")
	return cmd
}

// runStatus lists the runs, or shows one run and its recent events.
func runStatus(cmd *cobra.Command, args []string, statePath, output string, events int) error {
	if err := checkOutput(output); err != nil {
		return err
	}
	ctx := cmd.Context()
	s, err := openStore(statePath)
	if err != nil {
		return err
	}
	defer s.Close()
	out := cmd.OutOrStdout()
	if len(args) == 0 {
		runs, err := s.ListRuns(ctx)
		if err != nil {
			return err
		}
		return printRuns(out, runSummaries(runs, leasesOf(ctx, s)), output)
	}
	run, err := s.GetRun(ctx, args[0])
	if err != nil {
		if isNotFound(err) {
			return usageError(fmt.Errorf("no run named %s", args[0]))
		}
		return err
	}
	evs, err := s.Events(ctx, run.Name, 0)
	if err != nil {
		return err
	}
	if len(evs) > events {
		evs = evs[len(evs)-events:]
	}
	sum := runSummaries([]store.Run{run}, leasesOf(ctx, s))[0]
	if output == "json" {
		return writeJSONOut(out, map[string]any{"run": sum, "events": evs})
	}
	printRun(out, sum, evs)
	return nil
}

// printRuns is the table of every run.
func printRuns(out io.Writer, runs []runSummary, output string) error {
	if output == "json" {
		return writeJSONOut(out, runs)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tHOSTNAME\tSTATE\tSTEP\tOWNER\tUPDATED\tREASON")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", r.Name, r.Hostname, r.State, r.Step, r.Steps, r.ownerText(), r.Updated.Local().Format(time.RFC3339), r.Reason)
	}
	return tw.Flush()
}

// printRun shows one run and its recent events.
func printRun(out io.Writer, sum runSummary, evs []store.Event) {
	fmt.Fprintf(out, "run %s: %s %s\n  state   %s", sum.Name, sum.Strategy, sum.Hostname, sum.State)
	if sum.Reason != "" {
		fmt.Fprintf(out, " — %s", sum.Reason)
	}
	fmt.Fprintf(out, "\n  step    %d/%d %s\n", sum.Step, sum.Steps, sum.StepTitle)
	fmt.Fprintf(out, "  owner   %s\n", sum.ownerText())
	if b := sum.Bulk; b != nil {
		fmt.Fprintf(out, "  hosts   %d in %d zones: %d at step %d", b.Hosts, b.Zones, b.AtStep, sum.Step)
		held := 0
		for _, g := range b.Held {
			held += g.Count
		}
		if held > 0 {
			fmt.Fprintf(out, ", %d held back", held)
		}
		fmt.Fprintln(out)
		for _, g := range b.Held {
			fmt.Fprintf(out, "    %d held before step %s (zones %s; %s): %s\n", g.Count, g.Step, strings.Join(g.Zones, ", "), strings.Join(g.Sample, ", "), g.Reason)
		}
	}
	for _, d := range sum.Deadlines {
		fmt.Fprintf(out, "  until   %s (%s from now)\n", d.Local().Format(time.RFC3339), time.Until(d).Round(time.Second))
	}
	fmt.Fprintln(out, "  recent events:")
	for _, e := range evs {
		fmt.Fprintf(out, "    %s  %-18s %s\n", e.Time.Local().Format("01-02 15:04:05"), e.Type, e.Message)
	}
}

type runSummary struct {
	Name      string         `json:"name"`
	Hostname  string         `json:"hostname"`
	Strategy  string         `json:"strategy"`
	State     store.RunState `json:"state"`
	Reason    string         `json:"reason,omitempty"`
	Step      int            `json:"step"`
	Steps     int            `json:"steps"`
	StepTitle string         `json:"step_title,omitempty"`
	Deadlines []time.Time    `json:"deadlines,omitempty"`
	Updated   time.Time      `json:"updated"`
	// Owner is the controller holding the run's lease ("host:pid"), and
	// OwnerUntil when that lease runs out unless renewed; both empty when
	// nobody holds it.
	Owner      string     `json:"owner,omitempty"`
	OwnerUntil *time.Time `json:"owner_until,omitempty"`
	// Bulk says where a bulk run's hostnames are: how many move with the
	// run, how many are held back, at which step and why.
	Bulk *engine.BulkStatus `json:"bulk,omitempty"`
}

// ownerText is the owner column: the holder, marked when its lease ran out
// (it died or stalled; another controller may take the run over).
func (s runSummary) ownerText() string {
	switch {
	case s.Owner == "":
		return "-"
	case s.OwnerUntil != nil && !time.Now().Before(*s.OwnerUntil):
		return s.Owner + " (lease expired)"
	}
	return s.Owner
}

// leasesOf reads who holds each hostname's lease, when the store can say.
func leasesOf(ctx context.Context, s store.Store) map[string]store.Lease {
	ll, ok := s.(store.LeaseLister)
	if !ok {
		return nil
	}
	leases, err := ll.Leases(ctx)
	if err != nil {
		return nil
	}
	out := map[string]store.Lease{}
	for _, l := range leases {
		out[l.Hostname] = l
	}
	return out
}

func runSummaries(runs []store.Run, leases map[string]store.Lease) []runSummary {
	var out []runSummary
	for _, r := range runs {
		s := runSummary{Name: r.Name, Hostname: r.Hostname, State: r.State, Reason: r.Reason, Step: r.Step + 1, Updated: r.UpdatedAt}
		if l, ok := leases[r.Hostname]; ok && l.Owner != "" && !r.State.Terminal() {
			until := l.Expires
			s.Owner, s.OwnerUntil = l.Owner, &until
		}
		if rb, err := engine.Runbook(r); err == nil {
			s.Strategy, s.Steps = rb.Strategy, len(rb.Steps)
			if s.Bulk = engine.BulkSummary(rb, r); s.Bulk != nil {
				s.Hostname = fmt.Sprintf("%d hostnames", s.Bulk.Hosts)
			}
			if r.Step < len(rb.Steps) && r.State != store.StateRollingBack {
				s.StepTitle = rb.Steps[r.Step].Title
			}
		}
		for _, d := range r.Timers {
			s.Deadlines = append(s.Deadlines, d)
		}
		sort.Slice(s.Deadlines, func(i, j int) bool { return s.Deadlines[i].Before(s.Deadlines[j]) })
		out = append(out, s)
	}
	return out
}

func writeJSONOut(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func init() {
	rootCmd.AddCommand(newPlanCmd(), newApplyCmd(), newStatusCmd(),
		newRequestCmd("pause", "Pause a run where it is", "Ask the run to pause. The process executing it stops at the next check (within seconds); the run keeps its position and timers."),
		newRequestCmd("resume", "Resume a paused or interrupted run", "Resume a run. If no process is executing it (it was interrupted, or paused and its process exited), this process executes it from the recorded position.\n\nWith --standby on a store shared by several controllers (--store etcd://…), no request is recorded: this process waits for the run's lease and takes the run over when the controller holding it dies or stalls past its lease (within --lease-ttl plus one --poll), continuing from the recorded position; an interrupted change is reconciled against the zone first. Example:\n\n  cutover apply -f plan.yaml --auto-approve --store etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379   # controller 1\n  cutover resume api-move --standby --store etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379     # controller 2"),
		newRequestCmd("rollback", "Roll a run back to the original records", "Restore the records the run started from (with the TTL kept low), from whatever step it reached, including during the hold."),
		newRequestCmd("promote", "Approve an approval step, or skip the rest of the current observe or hold", `Approve the approval step the run waits at (also after its timeout paused the
run), or end the current observation or hold now and continue with the next step.

With --skip-current-step, leave the current waiting step behind — an observation,
hold, approval, drain or verification — also when a gate that cannot decide
(inconclusive: no data yet) paused the run there. DNS and CloudFront changes are
never skipped.`),
	)
}
