package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runArgs runs a command line as main does and returns its exit code.
func runArgs(t *testing.T, args ...string) (int, string) {
	t.Helper()
	resetFlags(rootCmd)
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetIn(strings.NewReader(""))
	err := executeCLI(context.Background(), args)
	if err != nil {
		out.WriteString(err.Error())
	}
	return exitCodeOf(err), out.String()
}

// commandPath is the words that name c on the command line.
func commandPath(c *cobra.Command) []string {
	var words []string
	for ; c.HasParent(); c = c.Parent() {
		words = append([]string{c.Name()}, words...)
	}
	return words
}

// runnable lists every command that does something, however deep.
func runnable(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	if c.Runnable() {
		out = append(out, c)
	}
	for _, sub := range c.Commands() {
		if sub.Name() == "help" || sub.Name() == "completion" {
			continue
		}
		out = append(out, runnable(sub)...)
	}
	return out
}

// TestCobraErrorsExitWithUsage: an unknown flag or a wrong number of
// positional arguments is bad input (exit 2) on every command, and nothing
// runs.
func TestCobraErrorsExitWithUsage(t *testing.T) {
	cmds := runnable(rootCmd)
	if len(cmds) < 10 {
		t.Fatalf("found only %d commands", len(cmds))
	}
	for _, c := range cmds {
		path := commandPath(c)
		t.Run(strings.Join(path, "_"), func(t *testing.T) {
			if code, out := runArgs(t, append(path, "--no-such-flag")...); code != exitUsage {
				t.Errorf("unknown flag: exit %d, want %d\n%s", code, exitUsage, out)
			}
			// The first argument count the command refuses.
			for _, args := range [][]string{{}, {"a"}, {"a", "b"}} {
				if c.Args(c, args) == nil {
					continue
				}
				if code, out := runArgs(t, append(path, args...)...); code != exitUsage {
					t.Errorf("%d arguments: exit %d, want %d\n%s", len(args), code, exitUsage, out)
				}
				break
			}
		})
	}
}

func TestPauseWithoutANameExitsWithUsage(t *testing.T) {
	code, out := runArgs(t, "pause")
	if code != exitUsage || !strings.Contains(out, "accepts 1 arg") {
		t.Fatalf("exit %d, want %d\n%s", code, exitUsage, out)
	}
}

func TestUnknownCommandAndMissingRequiredFlagExitWithUsage(t *testing.T) {
	if code, out := runArgs(t, "no-such-command"); code != exitUsage {
		t.Errorf("unknown command: exit %d, want %d\n%s", code, exitUsage, out)
	}
	if code, out := runArgs(t, "plan"); code != exitUsage || !strings.Contains(out, `required flag(s) "file" not set`) {
		t.Errorf("missing required flag: exit %d, want %d\n%s", code, exitUsage, out)
	}
}
