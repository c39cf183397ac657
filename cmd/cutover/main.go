// Command cutover moves live traffic for a hostname from one edge to another
// through DNS, with zero failed requests, and proves it.
//
// This package only wires flags to the internal packages; every subcommand
// lives in its own file and registers itself on rootCmd.
package main

import (
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
	err := rootCmd.Execute()
	if err == nil {
		os.Exit(exitOK)
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	// cobra's own flag and argument errors are usage errors.
	os.Exit(exitFailure)
}

func init() {
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
}
