package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/demo"
	"github.com/cutover/cutover/internal/server"
	"github.com/cutover/cutover/internal/store/memstore"
)

const demoLong = `Start the built-in lab on 127.0.0.1 (a Route 53, ELB and CloudWatch control plane, an
authoritative DNS server, two load balancers with one origin each) and move
api.example.com from the old load balancer to the new one with weighted Route 53
records — TTL prep, 10% → 50% → 100% with a health gate between steps, verify,
hold, TTL restore — while virtual clients resolve through the lab's DNS (honouring
TTLs, some keeping answers too long) and send requests the whole time.

The engine reaches the lab over the wire with the AWS SDK, exactly as it reaches
AWS. Nothing outside this machine is touched.

Scenarios:
  weighted   the migration succeeds; exit 0 only if no client request failed
  rollback   a 5xx fault is injected into the new origin at 50%; the gate
             breaches and the run rolls back on its own; exit 0 only if the
             rollback came within the plan's bound and the only failed requests
             are the ones the fault caused
  alias-move cdn.example.com moves between two CloudFront distributions with
             AssociateAlias (its _cdn.example.com TXT proof published first),
             then DNS follows; exit 0 only if no request failed and the old
             origin served none after the run reported done
  bridge     seed 001: the new distribution cannot take cdn.example.com yet,
             so traffic shifts to a host-rewriting bridge (cutover bridge, run
             in-process), the old distribution drains, the alias moves, and
             traffic shifts from the bridge to the new distribution directly
  maintenance seed 002: api.example.com goes behind the lab's maintenance page
             (a 503 with a page) by a Route 53 weight override, stays a few
             seconds, and comes back; exit 0 only if no request failed (the
             page's 503 is an answer) and the records after off equal those
             before on, byte for byte`

func newDemoCmd() *cobra.Command {
	var scenario, output, listen string
	var clients int
	var rate float64
	var serve bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a real migration on the built-in lab, under client load, and show what happened",
		Long:  demoLong,
		Example: `  cutover demo
  cutover demo --scenario rollback
  cutover demo --scenario maintenance
  cutover demo -o json | jq .load
  cutover demo --serve            # then open the printed URL; Ctrl-C ends it`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := demo.Options{Scenario: scenario, Clients: clients, Rate: rate}
			if serve {
				return runDemoServed(cmd, o, output, listen)
			}
			return runDemo(cmd, o, output)
		},
	}
	cmd.Flags().BoolVar(&serve, "serve", false, "show the run on the dashboard while it happens, and keep the lab and the dashboard up after it until Ctrl-C")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "with --serve: the dashboard's address (port 0 picks a free one)")
	cmd.Flags().StringVar(&scenario, "scenario", demo.ScenarioWeighted, strings.Join(demo.Scenarios, ", "))
	cmd.Flags().IntVar(&clients, "clients", 20, "virtual clients")
	cmd.Flags().Float64Var(&rate, "rate", 100, "client requests per second, in total")
	outputFlag(cmd, &output)
	return cmd
}

// runDemo runs one scenario and prints its report; the exit status says the
// verdict.
func runDemo(cmd *cobra.Command, o demo.Options, output string) error {
	if err := checkOutput(output); err != nil {
		return err
	}
	if !slices.Contains(demo.Scenarios, o.Scenario) {
		return usageError(fmt.Errorf("--scenario %q: want one of %s", o.Scenario, strings.Join(demo.Scenarios, ", ")))
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	printed := false
	if o.Hold != nil {
		hold := o.Hold
		o.Hold = func(ctx context.Context, rep *demo.Report) error {
			if err := printDemo(cmd, rep, output); err != nil {
				return err
			}
			printed = true
			return hold(ctx, rep)
		}
	}
	if output == "text" {
		o.Out = cmd.OutOrStdout()
	} else {
		o.Out = cmd.ErrOrStderr()
	}
	rep, err := demo.Run(ctx, o)
	if err != nil && (rep == nil || ctx.Err() == nil) {
		return err
	}
	if !printed {
		if err := printDemo(cmd, rep, output); err != nil {
			return err
		}
	}
	if !rep.OK {
		return &exitError{code: exitFailure, err: errors.New("demo verdict: FAIL")}
	}
	return nil
}

func printDemo(cmd *cobra.Command, rep *demo.Report, output string) error {
	if output == "json" {
		return writeJSONOut(cmd.OutOrStdout(), rep)
	}
	rep.WriteText(cmd.OutOrStdout())
	return nil
}

// runDemoServed is the demo with its run on a dashboard (a show-only
// server on the demo's store, with a token for this process only), kept
// up after the run until interrupted.
func runDemoServed(cmd *cobra.Command, o demo.Options, output, listen string) error {
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return usageError(fmt.Errorf("--listen %q: %w", listen, err))
	}
	token, err := server.NewToken()
	if err != nil {
		return err
	}
	o.Store = memstore.New(memstore.Options{})
	srv, err := server.New(server.Options{Store: o.Store, Token: token, ShowOnly: true})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return usageError(fmt.Errorf("--listen %s: %w", listen, err))
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	fmt.Fprintf(cmd.ErrOrStderr(), "dashboard: http://%s/  (token for this demo: %s)\n", ln.Addr(), token)
	o.Hold = func(ctx context.Context, _ *demo.Report) error {
		fmt.Fprintf(cmd.ErrOrStderr(), "the lab and the dashboard stay up at http://%s/ — Ctrl-C ends them\n", ln.Addr())
		<-ctx.Done()
		return nil
	}
	err = runDemo(cmd, o, output)
	cancel()
	<-served
	return err
}

func init() { rootCmd.AddCommand(newDemoCmd()) }
