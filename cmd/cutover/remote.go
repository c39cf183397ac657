package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/server"
	"github.com/cutover/cutover/internal/store"
)

// remoteFlags point a client command at a `cutover serve`.
type remoteFlags struct{ url, token string }

func (r *remoteFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.url, "server", "", "URL of a cutover serve to ask, instead of the local state file")
	cmd.Flags().StringVar(&r.token, "token", "", "the server's bearer token (default $CUTOVER_TOKEN)")
}

func (r remoteFlags) set() bool { return r.url != "" }

func (r remoteFlags) client() *server.Client {
	tok := r.token
	if tok == "" {
		tok = os.Getenv("CUTOVER_TOKEN")
	}
	return &server.Client{URL: r.url, Token: tok}
}

// remoteError makes the server's 4xx answers (a bad plan, no token, no
// such run, a conflict) usage errors, as the same mistakes are locally.
func remoteError(err error) error {
	var ae *server.APIError
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
		return usageError(err)
	}
	return err
}

// runApplyRemote shows the plan as the server compiles it, asks, and
// submits it; the server executes the run.
func runApplyRemote(cmd *cobra.Command, file string, autoApprove, force bool, r remoteFlags) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return usageError(fmt.Errorf("reading plan: %w", err))
	}
	ctx, out, c := cmd.Context(), cmd.OutOrStdout(), r.client()
	dry, err := c.Submit(ctx, file, data, true, force)
	if err != nil {
		return remoteError(err)
	}
	fmt.Fprint(out, dry.Plan)
	if !autoApprove && !confirm(cmd.InOrStdin(), out, "Submit this runbook to "+r.url+"?") {
		return &exitError{code: exitCanceled, err: errors.New("apply declined; nothing was submitted")}
	}
	sub, err := c.Submit(ctx, file, data, false, force)
	if err != nil {
		return remoteError(err)
	}
	if sub.Existing {
		fmt.Fprintf(out, "run %s is already in progress on %s with this plan\n", sub.Name, r.url)
	} else {
		fmt.Fprintf(out, "run %s submitted to %s\n", sub.Name, r.url)
	}
	fmt.Fprintf(out, "follow it: cutover status %s --server %s, or %s/#/runs/%s\n", sub.Name, r.url, r.url, sub.Name)
	return nil
}

// runRequestRemote asks the server for an operator action.
func runRequestRemote(cmd *cobra.Command, action, name string, r remoteFlags) error {
	if err := r.client().Request(cmd.Context(), name, action); err != nil {
		return remoteError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s requested; %s acts on it within seconds\n", action, r.url)
	return nil
}

// runStatusRemote is status against a server.
func runStatusRemote(cmd *cobra.Command, args []string, output string, events int, r remoteFlags) error {
	ctx, out, c := cmd.Context(), cmd.OutOrStdout(), r.client()
	if len(args) == 0 {
		runs, err := c.Runs(ctx)
		if err != nil {
			return remoteError(err)
		}
		if output == "json" {
			return writeJSONOut(out, runs)
		}
		printRemoteRuns(out, runs)
		return nil
	}
	d, err := c.Run(ctx, args[0])
	if err != nil {
		return remoteError(err)
	}
	evs := d.Events
	if len(evs) > events {
		evs = evs[len(evs)-events:]
	}
	if output == "json" {
		return writeJSONOut(out, map[string]any{"run": d.Summary, "events": evs})
	}
	printRun(out, runSummaries([]store.Run{d.Run}, nil)[0], evs)
	return nil
}

func printRemoteRuns(out io.Writer, runs []server.RunSummary) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tHOSTNAME\tSTATE\tSTEP\tUPDATED\tREASON")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", r.Name, r.Hostname, r.State, r.Step, r.Steps, r.UpdatedAt.Local().Format(time.RFC3339), r.Reason)
	}
	tw.Flush()
}
