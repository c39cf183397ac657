package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/report"
	"github.com/cutover/cutover/internal/split"
)

func newReportCmd() *cobra.Command {
	var statePath, format, outPath string
	var metrics bool
	cmd := &cobra.Command{
		Use:   "report NAME",
		Short: "Write the audit report of a run: changes, split chart, gates, verifications, operators",
		Long: `Write the audit report of one run from its state file: a single self-contained
HTML page (inline CSS and SVG, nothing loaded from anywhere) or Markdown, for a
change-review board or an incident record.

The report holds:
  - every DNS and CDN change the run made, with the provider's change id (Route 53's
    change id, CloudFront's ETag after the change) and the records or aliases
    before and after (a staging run's continuous deployment operations are listed
    on their own: each may be several CloudFront calls);
  - a chart of the share of traffic intended for the new edge against the share
    the edges actually served, read from their CloudWatch request metrics
    (CloudFront Requests, ALB RequestCount; --metrics=false skips them);
  - every gate value, every verification with its resolver × edge matrix;
  - every operator action (pause, resume, rollback, promote): who, when, and what
    the run did with it;
  - the whole timeline of events.

--format json writes the same report as data.`,
		Example: `  cutover report api-move -o api-move.html
  cutover report api-move --format md -o api-move.md
  cutover report api-move --format json --metrics=false | jq '.changes[].change_id'`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd, args[0], statePath, format, outPath, metrics)
		},
	}
	stateFlag(cmd, &statePath)
	cmd.Flags().StringVar(&format, "format", report.FormatHTML, "html, md or json")
	cmd.Flags().StringVarP(&outPath, "output", "o", "", "file to write (default: standard output)")
	cmd.Flags().BoolVar(&metrics, "metrics", true, "read the edges' request metrics from CloudWatch for the observed split")
	return cmd
}

func runReport(cmd *cobra.Command, name, statePath, format, outPath string, metrics bool) error {
	if !slices.Contains(report.Formats, format) {
		return usageError(fmt.Errorf("--format %q: want one of %s", format, strings.Join(report.Formats, ", ")))
	}
	if _, err := os.Stat(statePath); err != nil {
		return usageError(fmt.Errorf("state file %s: %w", statePath, err))
	}
	s, err := openStore(statePath)
	if err != nil {
		return err
	}
	defer s.Close()
	var m split.Metrics
	if metrics {
		m = split.NewCloudWatch(connect.Config)
	}
	r, err := report.Load(cmd.Context(), s, name, m)
	if err != nil {
		if isNotFound(err) {
			return usageError(fmt.Errorf("no run named %s in %s", name, statePath))
		}
		return err
	}
	var b bytes.Buffer
	if err := report.Render(&b, r, format); err != nil {
		return err
	}
	if outPath == "" {
		_, err := cmd.OutOrStdout().Write(b.Bytes())
		return err
	}
	return writeFileAtomic(outPath, b.Bytes())
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so a reader never sees half a report.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func init() { rootCmd.AddCommand(newReportCmd()) }
