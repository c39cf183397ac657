package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/server"
	"github.com/cutover/cutover/internal/split"
)

const serveLong = `Run every active run of the state file, each with its own engine, and accept new
plans over a JSON API (versioned under /api/v1), with server-sent events
(/api/v1/events), Prometheus metrics (/metrics) and a dashboard (/) whose assets
are built into the binary.

A run survives the server: stop it (or kill -9 it) and start it again on the same
state file, and each run continues from its recorded position.

Reading needs nothing; every change (submit, pause, resume, rollback, promote)
needs the bearer token. The token is generated at the first start, printed once,
and kept with mode 0600 next to the state file (STATE.token). The server binds
the loopback interface unless --listen names another.

Clients: cutover apply --server URL -f plan.yaml, and status, pause, resume,
rollback, promote with --server URL (token from --token or CUTOVER_TOKEN).`

const serveExample = `  cutover serve --listen 127.0.0.1:8080 --state /var/lib/cutover/state.db
  export CUTOVER_TOKEN=$(cat /var/lib/cutover/state.db.token)
  cutover apply --server http://127.0.0.1:8080 -f plan.yaml
  curl -s http://127.0.0.1:8080/api/v1/runs | jq .
  curl -N http://127.0.0.1:8080/api/v1/events?run=api-move`

func newServeCmd() *cobra.Command {
	var listen, statePath string
	var rescan time.Duration
	cmd := &cobra.Command{
		Use:     "serve",
		Short:   "Run every active run of a state file, with a JSON API, events, metrics and a dashboard",
		Long:    serveLong,
		Example: serveExample,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd, listen, statePath, rescan)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to serve on (host:port; port 0 picks a free one)")
	cmd.Flags().DurationVar(&pollInterval, "poll", pollInterval, "how often each engine checks propagation and operator requests")
	cmd.Flags().DurationVar(&reconcileWait, "reconcile-wait", reconcileWait, "after an interruption, how long to allow a change whose id was lost to propagate (Route 53: within 60s)")
	cmd.Flags().DurationVar(&rescan, "rescan", 5*time.Second, "how often the state file is read for active runs nobody executes")
	stateFlag(cmd, &statePath)
	return cmd
}

func runServe(cmd *cobra.Command, listen, statePath string, rescan time.Duration) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := cmd.OutOrStdout()
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return usageError(fmt.Errorf("--listen %q: %w", listen, err))
	}
	s, err := openStore(statePath)
	if err != nil {
		return err
	}
	defer s.Close()
	tokenPath := server.TokenPath(statePath)
	token, created, err := server.LoadOrCreateToken(tokenPath)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Options{Store: s, Token: token, Poll: pollInterval, UnknownChangeSettle: reconcileWait, Rescan: rescan,
		Split: split.NewFunc(split.NewCloudWatch(connect.Config)),
		Logf: func(format string, args ...any) {
			fmt.Fprintf(out, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
		}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return usageError(fmt.Errorf("--listen %s: %w", listen, err))
	}
	if created {
		fmt.Fprintf(out, "token: %s\n  (shown once; kept in %s, mode 0600)\n", token, tokenPath)
	} else {
		fmt.Fprintf(out, "token: in %s\n", tokenPath)
	}
	if !server.Loopback(ln.Addr().String()) {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s is reachable from other machines; reads need no token\n", ln.Addr())
	}
	fmt.Fprintf(out, "serving http://%s  (dashboard /, API /api/v1, events /api/v1/events, metrics /metrics)\n", ln.Addr())
	return srv.Serve(ctx, ln)
}

func init() { rootCmd.AddCommand(newServeCmd()) }
