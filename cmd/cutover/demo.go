package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/demo"
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
	var scenario, output string
	var clients int
	var rate float64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a real migration on the built-in lab, under client load, and show what happened",
		Long:  demoLong,
		Example: `  cutover demo
  cutover demo --scenario rollback
  cutover demo --scenario maintenance
  cutover demo -o json | jq .load`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd, demo.Options{Scenario: scenario, Clients: clients, Rate: rate}, output)
		},
	}
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
	if output == "text" {
		o.Out = cmd.OutOrStdout()
	} else {
		o.Out = cmd.ErrOrStderr()
	}
	rep, err := demo.Run(ctx, o)
	if err != nil {
		return err
	}
	if output == "json" {
		if err := writeJSONOut(cmd.OutOrStdout(), rep); err != nil {
			return err
		}
	} else {
		rep.WriteText(cmd.OutOrStdout())
	}
	if !rep.OK {
		return &exitError{code: exitFailure, err: errors.New("demo verdict: FAIL")}
	}
	return nil
}

func init() { rootCmd.AddCommand(newDemoCmd()) }
