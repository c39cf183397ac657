package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/plan"
)

// validateResult is one plan file's verdict in `-o json` output.
type validateResult struct {
	File        string           `json:"file"`
	Valid       bool             `json:"valid"`
	Name        string           `json:"name,omitempty"`
	Hostname    string           `json:"hostname,omitempty"`
	Strategy    string           `json:"strategy,omitempty"`
	Steps       int              `json:"steps"`
	Gates       int              `json:"gates"`
	Diagnostics plan.Diagnostics `json:"diagnostics"`
}

const validateLong = `validate reads each plan file, fills in the defaults and checks every rule:
field names and types, hostnames and ids, strategy against edges, step
weights, gates, CloudFront limits. It reports every problem at once, each as
file:line:col: message, and warnings that do not make a plan invalid.

It contacts no AWS API, starts nothing and writes no file. It exits with 0
when every plan is valid and 2 when any is not, so it fits in CI.`

func newValidateCmd() *cobra.Command {
	var files []string
	var output string
	cmd := &cobra.Command{
		Use:   "validate -f PLAN [-f PLAN...]",
		Short: "Check plan files without touching anything",
		Long:  validateLong,
		Example: `  # one plan
  cutover validate -f examples/weighted.yaml

  # several plans; the exit code is 2 if any of them is invalid
  cutover validate -f a.yaml -f b.yaml

  # machine-readable verdicts
  cutover validate -f plan.yaml -o json

  # from standard input
  cat plan.yaml | cutover validate -f -`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(fmt.Errorf("unexpected argument %q: name plan files with -f", args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return validateFiles(cmd, files, output)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "plan file to check; repeat for several; - reads standard input")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// validateFiles checks every named plan and prints the verdicts; any
// invalid plan makes it a usage error (exit 2).
func validateFiles(cmd *cobra.Command, files []string, output string) error {
	if len(files) == 0 {
		return usageError(errors.New("no plan file: name one with -f"))
	}
	if output != "text" && output != "json" {
		return usageError(fmt.Errorf("unknown output format %q: use text or json", output))
	}
	results := make([]validateResult, 0, len(files))
	invalid := 0
	for _, f := range files {
		r := validateFile(cmd.InOrStdin(), f)
		if !r.Valid {
			invalid++
		}
		results = append(results, r)
	}
	out := cmd.OutOrStdout()
	if output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return fmt.Errorf("writing results: %w", err)
		}
	} else {
		for _, r := range results {
			printValidateText(out, r)
		}
	}
	if invalid > 0 {
		if len(files) == 1 {
			return usageError(fmt.Errorf("%s is invalid", files[0]))
		}
		return usageError(fmt.Errorf("%d of %d plan files are invalid", invalid, len(files)))
	}
	return nil
}

// validateFile loads one plan and turns the outcome into a result; a file
// that cannot be read is an invalid plan with a position-less diagnostic.
func validateFile(stdin io.Reader, file string) validateResult {
	r := validateResult{File: file, Diagnostics: plan.Diagnostics{}}
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		r.Diagnostics = plan.Diagnostics{{Pos: plan.Pos{File: file}, Severity: plan.SeverityError, Message: fmt.Sprintf("reading plan: %v", err)}}
		return r
	}
	p, err := plan.Parse(file, data)
	if err != nil {
		var ds plan.Diagnostics
		if errors.As(err, &ds) {
			r.Diagnostics = ds
		} else {
			r.Diagnostics = plan.Diagnostics{{Pos: plan.Pos{File: file}, Severity: plan.SeverityError, Message: err.Error()}}
		}
		return r
	}
	r.Valid = true
	r.Name, r.Hostname, r.Strategy = p.Name, p.Hostname, string(p.Strategy)
	r.Steps, r.Gates = len(p.Steps), len(p.Gates)
	switch {
	case p.Strategy == plan.StrategyStaging && p.Staging != nil:
		r.Steps = len(p.Staging.Steps)
	case p.Strategy == plan.StrategyBridge && p.Bridge != nil:
		r.Steps += len(p.Bridge.Steps) // phase 1 then phase 2
	case p.Strategy == plan.StrategyFlip || p.Strategy == plan.StrategyAliasMove:
		r.Steps = 1 // one record change (or alias move)
	}
	if w := p.Warnings(); len(w) > 0 {
		r.Diagnostics = w
	}
	return r
}

func printValidateText(w io.Writer, r validateResult) {
	if r.Valid {
		fmt.Fprintf(w, "%s: valid (strategy %s, %s, %s)\n", r.File, r.Strategy, plural(r.Steps, "step"), plural(r.Gates, "gate"))
	}
	if len(r.Diagnostics) > 0 {
		fmt.Fprintln(w, r.Diagnostics.Error())
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func init() { rootCmd.AddCommand(newValidateCmd()) }
