package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/bridge"
)

const bridgeExample = `# bridge.yaml: serve cdn.example.com from the new distribution while the
# old distribution still owns the alternate domain name.
listeners:
  http: 127.0.0.1:8080            # ":8080" also means 127.0.0.1; use 0.0.0.0:8080 behind a load balancer
  https:                          # optional; HTTP/2 and HTTP/1.1, certificate chosen by SNI
    addr: 127.0.0.1:8443
    certificates:
      - {cert: /etc/cutover/cdn.example.com.pem, key: /etc/cutover/cdn.example.com.key}
routes:
  - host: cdn.example.com                   # requests for any other Host get 421
    upstreams: [https://d111111abcdef8.cloudfront.net]
    rewrite_host: cdn-new.example.com       # Host, TLS SNI and certificate name upstream
    headers: {X-Bridge: "1"}
    max_concurrent: 1024                    # above it: 503 with Retry-After
    timeout: 30s                            # wait for upstream response headers
upstream_tls: {ca: "", insecure_skip_verify: false}   # empty ca: system roots
limits: {read_header_timeout: 10s, idle_timeout: 120s, max_header_bytes: 32768, max_header_count: 100}
health: {failures: 3, cooldown: 10s}        # passive: consecutive failures take an upstream out
metrics: 127.0.0.1:9090                     # /metrics and /healthz; "off" disables
health_host: ""                             # also answer /healthz on the main listener for this Host
access_log: false
event_loops: true                           # Linux: epoll loops for plain HTTP; false: a goroutine per connection
shutdown_timeout: 30s`

const bridgeLong = `bridge runs a small hardened reverse proxy that accepts requests for a public
host name, rewrites Host and the upstream TLS server name to a name the new
edge already serves, and forwards them there. It lets weighted DNS drain the
old CloudFront distribution while the alternate domain name cannot yet move.

It never acts as an open proxy: unknown hosts get 421, CONNECT is refused and
requests with ambiguous framing are rejected before reaching an upstream.

Throughput: on Linux plain-HTTP clients are served by epoll event loops, one
per GOMAXPROCS (set GOMAXPROCS to bound the cores it uses); in bench/bridge it
is within a few percent of nginx and HAProxy doing the same rewrite. HTTPS clients,
upgrades, large or streamed bodies take net/http's path.

Signals: SIGHUP reloads the routes from the file without dropping connections
(a file that fails to load keeps the running routes); SIGINT/SIGTERM stop
accepting, turn /healthz to 503 and drain in-flight requests.

Example configuration (every field but routes is optional; values shown are
the defaults where one exists):

` + bridgeExample + "\n"

func newBridgeCmd() *cobra.Command {
	var (
		path  string
		check bool
	)
	cmd := &cobra.Command{
		Use:   "bridge -c bridge.yaml",
		Short: "Run the host-rewrite reverse proxy used by the bridge strategy",
		Long:  bridgeLong,
		Example: `  cutover bridge -c bridge.yaml
  cutover bridge -c bridge.yaml --check   # validate and load certificates, bind nothing (exit 2 if bad)
  kill -HUP $(pidof cutover)     # reload routes`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBridge(cmd, path, check)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "bridge configuration file (YAML)")
	cmd.Flags().BoolVar(&check, "check", false, "validate the configuration and load its certificates, then exit without serving")
	return cmd
}

// runBridge loads the configuration, then either checks it (--check) or
// serves until a signal stops it.
func runBridge(cmd *cobra.Command, path string, check bool) error {
	if path == "" {
		return usageError(errors.New("bridge: --config is required"))
	}
	cfg, err := bridge.Load(path)
	if err != nil {
		return usageError(err)
	}
	srv, err := bridge.New(cfg)
	if err != nil {
		return usageError(err)
	}
	if check {
		if err := srv.Check(); err != nil {
			return usageError(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "bridge: %s is valid: %s\n", path, bridge.Summary(cfg))
		return nil
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := srv.Start(); err != nil {
		return err
	}
	for _, name := range []string{"http", "https", "metrics"} {
		if a := srv.Addr(name); a != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "bridge: %s listening on %s\n", name, a)
		}
	}
	go srv.ReloadOnSignal(ctx, path, hup)
	return srv.Run(ctx)
}

func init() { rootCmd.AddCommand(newBridgeCmd()) }
