// Command cutover moves live traffic for a hostname from one edge to another
// through DNS, with zero failed requests, and proves it.
//
// This package only wires flags to the internal packages; every subcommand
// lives in its own file and registers itself on rootCmd.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes scripts can rely on.
const (
	exitOK       = 0
	exitFailure  = 1 // the operation ran and failed (a gate, a verify, a provider fault)
	exitUsage    = 2 // bad input: flags, a malformed plan or config; nothing was changed
	exitCanceled = 3 // the user declined or interrupted
	exitPaused   = 4 // the run paused and waits for a human (resume or rollback)
)

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as bad input (exit code 2).
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

var rootCmd = &cobra.Command{
	Use:   "cutover",
	Short: "Move live traffic for a hostname between edges through DNS, and prove it",
	Long: `cutover moves live traffic for a hostname from one edge to another — CloudFront
distribution to distribution, load balancer to load balancer, account to account —
through DNS, with zero failed requests, and proves that it did.

Start with the built-in lab, which emulates Route 53, CloudFront, CloudWatch,
ACM, ELBv2 and STS on 127.0.0.1 so that nothing real is touched:

  cutover lab                 # run the lab; prints AWS_ENDPOINT_URL and credentials
`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	err := executeCLI(context.Background(), os.Args[1:])
	if err == nil {
		os.Exit(exitOK)
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(exitCodeOf(err))
}

// started is set once a command's own work begins: an error before it is
// cobra's (an unknown command, say).
var started bool

// executeCLI runs the command line args; an error cobra itself returns, before
// the command started, is a usage error.
func executeCLI(ctx context.Context, args []string) error {
	started = false
	rootCmd.SetArgs(args)
	err := rootCmd.ExecuteContext(ctx)
	var ee *exitError
	if err != nil && !started && !errors.As(err, &ee) {
		return usageError(err)
	}
	return err
}

// exitCodeOf is the exit code scripts see for err.
func exitCodeOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

// usageArgs makes a positional-argument check's complaint a usage error.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}

func init() {
	// cobra's own flag and argument errors are usage errors.
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	// cobra checks required flags after this hook; checked here, a
	// missing one is a usage error too.
	rootCmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if err := c.ValidateRequiredFlags(); err != nil {
			return usageError(err)
		}
		if err := c.ValidateFlagGroups(); err != nil {
			return usageError(err)
		}
		started = true
		return nil
	}
}
