package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/loadrun"
	"github.com/cutover/cutover/internal/lab/origin"
	"github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/lab/world"
	"github.com/cutover/cutover/internal/syncbuf"
)

type labFlags struct {
	api       string
	dns       string
	seed      string
	envFile   string
	snapshot  string
	ca        string
	edges     int
	httpPort  int
	httpsPort int
	origins   []string

	propagation       string
	r53Propagation    time.Duration
	r53PropagationMax time.Duration
	deployDelay       time.Duration
	rateLimit         string
	targetTTL         uint32

	loadRate    float64
	loadHost    string
	loadClients int
	loadHTTPS   bool
	loadEvery   time.Duration

	anyKey string
}

// defaultOrigins are the two built-in origins a fresh lab serves: their
// markers are ok-old and ok-new, on addresses of their own so a seed can
// point distributions and load balancers at them.
var defaultOrigins = []string{"old=127.0.3.1:8081", "new=127.0.3.2:8082"}

func newLabCmd() *cobra.Command {
	var f labFlags
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run the built-in lab: AWS control plane, authoritative DNS, edges, origins",
		Long: `Run the lab in the foreground until interrupted (Ctrl-C, SIGTERM).

The control plane emulates Route 53, CloudFront, CloudWatch, ACM, ELBv2 and STS
on one HTTP address, following AWS's documented behaviour: atomic change
batches, exact-match DELETE, CNAMEAlreadyExists, ETag/If-Match,
InProgress→Deployed, PENDING→INSYNC, rate limits. The AWS SDKs and the aws CLI
work against it unchanged once AWS_ENDPOINT_URL points at it.

The data plane serves what the control plane says:
  - an authoritative DNS server (--dns) answering the public hosted zones,
    with CloudFront and load balancer names resolving to the lab's edges;
  - --edges CloudFront-like edges on 127.0.1.1, 127.0.1.2, … that route by
    Host header (exact alias, then the most specific wildcard) and apply each
    distribution change after a delay of their own within --propagation;
  - one address per load balancer from 127.0.2.1;
  - built-in origins (--origin NAME=ADDR) answering /ruok with ok-NAME;
  - optional client load (--load RPS --load-host HOST) resolving through the
    lab's DNS, honouring TTLs, with a per-second table of which origin
    served and how many requests failed.

The environment to use is printed (and written to --env-file) once ready:
AWS_* for the control plane plus CUTOVER_LAB_RESOLVER, CUTOVER_LAB_CA,
CUTOVER_LAB_EDGES and the edge ports.

Two accounts exist, 111111111111 (the keys printed) and 222222222222; a role
chain through STS reaches the second, as in a cross-account migration.

Every accepted write is kept in an append-only history (cutover lab history),
and origins take faults on demand (cutover lab fault).

Test suites written for moto or LocalStack: --any-key accepts the fixed fake
keys they sign with (moto's FOOBARKEY, LocalStack's test) as the admin of an
account, and POST /_lab/reset (also POST /moto-api/reset, which moto's client
calls; cutover lab reset for humans) returns the lab to its seed state between
tests: control plane, history, served DNS, edges and origin faults. A seed's
access_keys: entries add static keys of your own.`,
		Example: `  cutover lab --seed lab.yaml --env-file lab.env
  . ./lab.env && aws route53 list-hosted-zones
  dig @${CUTOVER_LAB_RESOLVER%:*} -p ${CUTOVER_LAB_RESOLVER#*:} cdn.example.com
  cutover lab --http-port 8080 --https-port 8443 --load 50 --load-host cdn.example.com
  cutover lab --any-key --seed lab.yaml      # then: TEST_SERVER_MODE=true pytest …
  cutover lab reset`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLab(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().Lookup("any-key").NoOptDefVal = awsapi.DefaultAccountID
	cmd.AddCommand(newLabHistoryCmd(), newLabCallsCmd(), newLabFaultCmd(), newLabResetCmd())
	return cmd
}

// register defines the lab's flags on fl.
func (f *labFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.api, "api", "127.0.0.1:4566", "address of the AWS API endpoint")
	fl.StringVar(&f.dns, "dns", "127.0.0.1:5353", "address (UDP and TCP) of the authoritative DNS server")
	fl.StringVar(&f.seed, "seed", "", "YAML file creating zones, records, certificates (ISSUED, or status: PENDING_VALIDATION; valid_for: 48h for one about to expire), distributions, load balancers, alarms and roles at start")
	fl.StringVar(&f.envFile, "env-file", "", "write the environment (AWS_*, CUTOVER_LAB_*) to this file once ready")
	fl.StringVar(&f.snapshot, "snapshot", "", "load control-plane state from this file at start (if it exists) and save it on exit")
	fl.StringVar(&f.ca, "ca", "", "write the lab CA (which signs the edges' certificates) to this file; default: a temporary file")
	fl.IntVar(&f.edges, "edges", 4, "number of CloudFront edges")
	fl.IntVar(&f.httpPort, "http-port", 80, "HTTP port of every edge and load balancer address (0: pick a free one)")
	fl.IntVar(&f.httpsPort, "https-port", 443, "HTTPS port of every edge and load balancer address (0: pick a free one)")
	fl.StringArrayVar(&f.origins, "origin", nil, "built-in origin NAME=ADDR serving ok-NAME (repeatable; default "+strings.Join(defaultOrigins, ", ")+")")
	fl.StringVar(&f.propagation, "propagation", "1s..5s", "per-edge delay range MIN..MAX for applying a CloudFront change (one duration: fixed)")
	fl.DurationVar(&f.r53Propagation, "r53-propagation", 2*time.Second, "how long a Route 53 change stays PENDING")
	fl.DurationVar(&f.r53PropagationMax, "r53-propagation-max", 0, "when above --r53-propagation, each change's delay is uniform in between")
	fl.DurationVar(&f.deployDelay, "deploy-delay", 5*time.Second, "how long a CloudFront change stays InProgress")
	fl.StringVar(&f.rateLimit, "rate-limit", "legacy", "Route 53 throttling: legacy (5/s per account), buckets, off")
	fl.Uint32Var(&f.targetTTL, "target-ttl", 60, "TTL of the answers for *.cloudfront.net and load balancer names")
	fl.Float64Var(&f.loadRate, "load", 0, "send this many requests per second to --load-host through the lab's DNS (0: no load)")
	fl.StringVar(&f.loadHost, "load-host", "", "hostname the client load resolves and requests (Host and SNI)")
	fl.IntVar(&f.loadClients, "load-clients", 0, "virtual clients of the load, each with its own DNS cache (default: one per 5 req/s, 1..50)")
	fl.BoolVar(&f.loadHTTPS, "load-https", false, "send the load over HTTPS, verified against the lab CA")
	fl.DurationVar(&f.loadEvery, "load-every", 5*time.Second, "how often the load table is printed")
	fl.StringVar(&f.anyKey, "any-key", "", "accept any access key as the admin of an account: --any-key=ACCOUNT, or bare for "+awsapi.DefaultAccountID+" (as moto and LocalStack do); off: unknown keys are refused")
}

func init() { rootCmd.AddCommand(newLabCmd()) }

// parsePropagation reads "MIN..MAX" or a single duration.
func parsePropagation(s string) (lo, hi time.Duration, err error) {
	a, b, ranged := strings.Cut(s, "..")
	if lo, err = time.ParseDuration(strings.TrimSpace(a)); err != nil {
		return 0, 0, fmt.Errorf("--propagation %q: %w", s, err)
	}
	hi = lo
	if ranged {
		if hi, err = time.ParseDuration(strings.TrimSpace(b)); err != nil {
			return 0, 0, fmt.Errorf("--propagation %q: %w", s, err)
		}
	}
	if lo < 0 || hi < lo {
		return 0, 0, fmt.Errorf("--propagation %q: want 0 <= MIN <= MAX", s)
	}
	// The edge simulator reads 0..0 as "use the defaults"; a lab asked for
	// instant propagation gets the smallest delay it can express instead.
	if hi == 0 {
		hi = time.Nanosecond
	}
	return lo, hi, nil
}

// parseOrigins reads NAME=ADDR pairs; names are unique.
func parseOrigins(pairs []string) ([]world.OriginSpec, error) {
	seen := map[string]bool{}
	var out []world.OriginSpec
	for _, p := range pairs {
		name, addr, ok := strings.Cut(p, "=")
		name, addr = strings.TrimSpace(name), strings.TrimSpace(addr)
		if !ok || name == "" || addr == "" {
			return nil, fmt.Errorf("--origin %q: want NAME=HOST:PORT", p)
		}
		if _, err := netip.ParseAddrPort(addr); err != nil {
			return nil, fmt.Errorf("--origin %q: %w", p, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("--origin %q: name %s given twice", p, name)
		}
		seen[name] = true
		out = append(out, world.OriginSpec{Name: name, Addr: addr})
	}
	return out, nil
}

// envLines is the environment that points AWS clients at the lab's
// control plane.
func envLines(endpoint string) string {
	return fmt.Sprintf("export AWS_ENDPOINT_URL=%s\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_REGION=us-east-1\nexport AWS_DEFAULT_REGION=us-east-1\n",
		endpoint, awsapi.DefaultAccessKeyID, awsapi.DefaultSecretAccessKey)
}

// dataPlaneEnv is the environment that finds the lab's data plane: the
// resolver, the CA to trust, the edges and their ports, the origins.
func dataPlaneEnv(w *world.World, caPath string) string {
	var edges []string
	for _, a := range w.EdgeAddrs() {
		edges = append(edges, a.String())
	}
	var origins []string
	for _, o := range w.Origins.List() {
		origins = append(origins, o.Name()+"="+o.Addr())
	}
	return fmt.Sprintf("export CUTOVER_LAB_RESOLVER=%s\nexport CUTOVER_LAB_CA=%s\nexport CUTOVER_LAB_EDGES=%s\nexport CUTOVER_LAB_HTTP_PORT=%d\nexport CUTOVER_LAB_HTTPS_PORT=%d\nexport CUTOVER_LAB_ORIGINS=%s\n",
		w.DNS, caPath, strings.Join(edges, ","), w.HTTPPort(), w.HTTPSPort(), strings.Join(origins, ","))
}

func (f *labFlags) check() (world.Options, error) {
	var o world.Options
	switch route53.RateLimit(f.rateLimit) {
	case route53.RateLimitLegacy, route53.RateLimitBuckets, route53.RateLimitOff:
	default:
		return o, fmt.Errorf("--rate-limit %q: want legacy, buckets or off", f.rateLimit)
	}
	lo, hi, err := parsePropagation(f.propagation)
	if err != nil {
		return o, err
	}
	if f.edges < 1 || f.edges > 250 {
		return o, fmt.Errorf("--edges %d: want 1..250", f.edges)
	}
	for _, p := range []int{f.httpPort, f.httpsPort} {
		if p < 0 || p > 65535 {
			return o, fmt.Errorf("port %d is outside 0..65535", p)
		}
	}
	if (f.httpPort == 0) != (f.httpsPort == 0) {
		return o, errors.New("--http-port 0 picks both ports: give --https-port 0 too")
	}
	if f.httpPort != 0 && f.httpPort == f.httpsPort {
		return o, errors.New("--http-port and --https-port must differ")
	}
	pairs := f.origins
	if len(pairs) == 0 {
		pairs = defaultOrigins
	}
	origins, err := parseOrigins(pairs)
	if err != nil {
		return o, err
	}
	if err := f.checkAnyKey(); err != nil {
		return o, err
	}
	if err := f.checkLoad(); err != nil {
		return o, err
	}
	if f.targetTTL == 0 {
		return o, errors.New("--target-ttl must be positive")
	}
	return world.Options{
		Lab: lab.Options{
			Propagation: f.r53Propagation, PropagationMax: f.r53PropagationMax,
			DeployDelay: f.deployDelay, RateLimit: route53.RateLimit(f.rateLimit),
		},
		APIAddr:        f.api,
		DNSAddr:        f.dns,
		Edges:          f.edges,
		PropagationMin: lo,
		PropagationMax: hi,
		HTTPPort:       f.httpPort,
		HTTPSPort:      f.httpsPort,
		EphemeralPorts: f.httpPort == 0,
		TargetTTL:      f.targetTTL,
		Origins:        origins,
	}, nil
}

// checkLoad checks the client load's flags.
// checkAnyKey validates --any-key: an account id is twelve digits.
func (f *labFlags) checkAnyKey() error {
	if f.anyKey == "" {
		return nil
	}
	if len(f.anyKey) != 12 || strings.Trim(f.anyKey, "0123456789") != "" {
		return fmt.Errorf("--any-key %q: want a 12-digit account id", f.anyKey)
	}
	return nil
}

func (f *labFlags) checkLoad() error {
	if f.loadRate < 0 || f.loadRate > 10000 {
		return fmt.Errorf("--load %v: want 0..10000 requests per second", f.loadRate)
	}
	if f.loadRate > 0 && f.loadHost == "" {
		return errors.New("--load needs --load-host")
	}
	if f.loadRate == 0 && f.loadHost != "" {
		return errors.New("--load-host needs --load RPS")
	}
	if f.loadEvery <= 0 {
		return errors.New("--load-every must be positive")
	}
	return nil
}

func runLab(ctx context.Context, out io.Writer, f labFlags) error {
	o, err := f.check()
	if err != nil {
		return usageError(err)
	}
	// Everything printed goes through one lock: the load table is written
	// from its own goroutine.
	out = syncbuf.NewWriter(out)

	caPath := f.ca
	if caPath == "" {
		caPath = filepath.Join(os.TempDir(), fmt.Sprintf("cutover-lab-ca-%d.pem", os.Getpid()))
		defer os.Remove(caPath)
	}
	o.CAPath = caPath
	restored := false
	o.Setup = func(w *world.World) (err error) {
		restored, err = prepareLab(w.Lab, f)
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	w, err := world.Start(ctx, o)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return fmt.Errorf("starting the lab: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			w.Close()
		}
	}()

	if err := announce(out, w, f, caPath, restored); err != nil {
		return err
	}

	var lr *loadrun.Runner
	if f.loadRate > 0 {
		lr, err = startLoad(ctx, out, w, f, caPath)
		if err != nil {
			return err
		}
	}

	<-ctx.Done()
	if lr != nil {
		lr.Stop()
	}
	w.Close()
	closed = true
	if f.snapshot != "" {
		if err := w.Lab.SaveSnapshot(f.snapshot); err != nil {
			return err
		}
		fmt.Fprintf(out, "# lab state saved to %s\n", f.snapshot)
	}
	return nil
}

// announce writes the environment to --env-file and prints where the lab
// serves.
func announce(out io.Writer, w *world.World, f labFlags, caPath string, restored bool) error {
	env := envLines(w.API) + dataPlaneEnv(w, caPath)
	if f.envFile != "" {
		if err := os.WriteFile(f.envFile, []byte(env), 0o600); err != nil {
			return fmt.Errorf("writing --env-file: %w", err)
		}
	}
	if restored {
		fmt.Fprintf(out, "# state restored from %s", f.snapshot)
		if f.seed != "" {
			fmt.Fprintf(out, " (it already holds the seed's world; %s not applied again)", f.seed)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "# cutover lab ready: AWS API on %s (history: %s/_lab/history)\n", w.API, w.API)
	fmt.Fprintf(out, "# DNS on %s; %d edges on port %d (HTTP) and %d (HTTPS); origins:", w.DNS, len(w.EdgeAddrs()), w.HTTPPort(), w.HTTPSPort())
	for _, og := range w.Origins.List() {
		fmt.Fprintf(out, " %s=%s", og.Name(), og.Addr())
	}
	fmt.Fprintf(out, "\n%s", env)
	return nil
}

// prepareLab restores the snapshot, or else applies the seed, before
// anything serves, so the edges start with that world already deployed. A
// snapshot saved by a seeded lab already holds the seed's world: applying
// the seed again would only collide with it.
func prepareLab(l *lab.Lab, f labFlags) (restored bool, err error) {
	l.Env.Keys.AllowAnyKey(f.anyKey)
	if f.snapshot != "" {
		data, err := os.ReadFile(f.snapshot)
		switch {
		case err == nil:
			if err := l.Restore(data); err != nil {
				return false, usageError(fmt.Errorf("--snapshot %s: %w", f.snapshot, err))
			}
			return true, nil
		case !errors.Is(err, os.ErrNotExist):
			return false, fmt.Errorf("--snapshot: %w", err)
		}
	}
	if f.seed != "" {
		s, err := lab.LoadSeed(f.seed)
		if err != nil {
			return false, usageError(err)
		}
		if _, err := l.Apply(s); err != nil {
			return false, usageError(fmt.Errorf("applying seed %s: %w", f.seed, err))
		}
	}
	return false, nil
}

// startLoad keeps client load going through the lab's DNS for as long as
// the lab runs, printing its table to out.
func startLoad(ctx context.Context, out io.Writer, w *world.World, f labFlags, caPath string) (*loadrun.Runner, error) {
	cfg := loadrun.Config{
		Host: f.loadHost, DNSServer: w.DNS, Rate: f.loadRate, Clients: f.loadClients,
		HTTPS: f.loadHTTPS, Port: w.HTTPPort(), Every: f.loadEvery, Out: out,
	}
	for _, o := range w.Origins.List() {
		cfg.Origins = append(cfg.Origins, o.Name())
	}
	if f.loadHTTPS {
		cfg.Port = w.HTTPSPort()
		pem, err := os.ReadFile(caPath)
		if err != nil {
			return nil, fmt.Errorf("reading the lab CA for --load-https: %w", err)
		}
		cfg.CAPEM = pem
	}
	lr, err := loadrun.Start(ctx, cfg)
	if err != nil {
		return nil, usageError(err)
	}
	return lr, nil
}

// labEndpoint is where the history and fault commands find a running lab:
// --endpoint, else AWS_ENDPOINT_URL (what `cutover lab` prints), else the
// default address.
func labEndpoint(flag string) string {
	if flag != "" {
		return strings.TrimSuffix(flag, "/")
	}
	if e := os.Getenv("AWS_ENDPOINT_URL"); e != "" {
		return strings.TrimSuffix(e, "/")
	}
	return "http://127.0.0.1:4566"
}

var labHTTP = &http.Client{Timeout: 10 * time.Second}

// labCall sends one admin request and decodes the JSON answer into v; an
// error answer's message becomes the error.
func labCall(ctx context.Context, method, url string, body any, v any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := labHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("reaching the lab (is `cutover lab` running?): %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the lab's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("lab: %s", e.Error)
		}
		return fmt.Errorf("lab: %s %s: %s", method, url, resp.Status)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding the lab's answer: %w", err)
	}
	return nil
}

func newLabHistoryCmd() *cobra.Command {
	var service, resource string
	var list labListFlags
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show the accepted writes of a running lab",
		Long: `List every write the running lab accepted, oldest first: sequence number,
time, account, service, operation and resource. Rejected requests leave no
trace, as they leave none in AWS. -o json adds the caller and the resource
before and after each change.`,
		Example: `  cutover lab history
  cutover lab history --service cloudfront --since 12 -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listLab(cmd, list, "/_lab/history", map[string]string{"service": service, "resource": resource},
				"SEQ\tTIME\tACCOUNT\tSERVICE\tOPERATION\tRESOURCE", func(c awsapi.Change) string {
					return fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s", c.Seq, c.Time.UTC().Format("15:04:05.000"), c.Account, c.Service, c.Operation, c.Resource)
				})
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "only this service (route53, cloudfront, monitoring, acm, elasticloadbalancing, sts)")
	cmd.Flags().StringVar(&resource, "resource", "", "only this resource (as the history names it)")
	list.register(cmd, "changes")
	return cmd
}

// labListFlags are the flags the lab's listings (history, calls) share.
type labListFlags struct {
	endpoint, output string
	since            int64
}

// register adds them; what names the listing's entries in --since's help.
func (f *labListFlags) register(cmd *cobra.Command, what string) {
	cmd.Flags().Int64Var(&f.since, "since", 0, "only "+what+" after this sequence number")
	cmd.Flags().StringVar(&f.endpoint, "endpoint", "", "the lab's AWS endpoint (default $AWS_ENDPOINT_URL, else http://127.0.0.1:4566)")
	outputFlag(cmd, &f.output)
}

// listLab reads the running lab's listing at path (/_lab/history,
// /_lab/calls), narrowed by the filters that are set and --since, and
// prints it: -o json as the lab answered (an empty list as []), else a
// table of header and one row a entry.
func listLab[T any](cmd *cobra.Command, f labListFlags, path string, filters map[string]string, header string, row func(T) string) error {
	if err := checkOutput(f.output); err != nil {
		return err
	}
	if f.since < 0 {
		return usageError(errors.New("--since must be >= 0"))
	}
	q := url.Values{}
	for k, v := range filters {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.since > 0 {
		q.Set("since", strconv.FormatInt(f.since, 10))
	}
	u := labEndpoint(f.endpoint) + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var entries []T
	if err := labCall(cmd.Context(), http.MethodGet, u, nil, &entries); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.output == "json" {
		if entries == nil {
			entries = []T{}
		}
		return writeJSONOut(out, entries)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, e := range entries {
		fmt.Fprintln(tw, row(e))
	}
	return tw.Flush()
}

func newLabFaultCmd() *cobra.Command {
	var endpoint, output string
	var fault origin.FaultJSON
	var latency time.Duration
	var clear bool
	cmd := &cobra.Command{
		Use:   "fault ORIGIN",
		Short: "Make a built-in origin of a running lab misbehave, or stop it",
		Long: `Set the fault of one built-in origin: a fraction of requests answered with an
error status (--error-rate, --status; default 500), added latency (--latency),
or every connection reset as soon as it is accepted (--refuse), the way a
crashed process behind a live port looks to a client. The new fault replaces
the previous one; --clear removes it.`,
		Example: `  cutover lab fault new --error-rate 0.2 --status 503
  cutover lab fault new --latency 200ms
  cutover lab fault new --clear`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLabFault(cmd, args[0], endpoint, output, fault, latency, clear)
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&fault.ErrorRate, "error-rate", 0, "fraction of requests (0..1) answered with --status")
	fl.IntVar(&fault.Status, "status", 0, "status of the injected errors (4xx or 5xx; default 500)")
	fl.DurationVar(&latency, "latency", 0, "added before every response (up to 1m)")
	fl.BoolVar(&fault.Refuse, "refuse", false, "reset every connection as soon as it is accepted")
	fl.BoolVar(&clear, "clear", false, "remove the origin's fault")
	fl.StringVar(&endpoint, "endpoint", "", "the lab's AWS endpoint (default $AWS_ENDPOINT_URL, else http://127.0.0.1:4566)")
	outputFlag(cmd, &output)
	return cmd
}

// runLabFault sets, or clears, the fault of the origin name.
func runLabFault(cmd *cobra.Command, name, endpoint, output string, fault origin.FaultJSON, latency time.Duration, clear bool) error {
	if err := checkOutput(output); err != nil {
		return err
	}
	fl := cmd.Flags()
	set := fl.Changed("error-rate") || fl.Changed("status") || fl.Changed("latency") || fl.Changed("refuse")
	switch {
	case clear && set:
		return usageError(errors.New("--clear takes no other fault flag"))
	case !clear && !set:
		return usageError(errors.New("nothing to set: give --error-rate, --latency or --refuse, or --clear"))
	case fl.Changed("status") && !fl.Changed("error-rate"):
		return usageError(errors.New("--status needs --error-rate"))
	}
	if clear {
		fault = origin.FaultJSON{}
	} else if latency != 0 {
		fault.Latency = latency.String()
	}
	// The lab validates too; checking here gives a usage error
	// before anything is sent.
	if _, err := fault.Fault(); err != nil {
		return usageError(err)
	}
	u := labEndpoint(endpoint) + origin.AdminPrefix + "/" + url.PathEscape(name) + "/fault"
	var info origin.Info
	if err := labCall(cmd.Context(), http.MethodPut, u, fault, &info); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if output == "json" {
		return writeJSONOut(out, info)
	}
	fmt.Fprintf(out, "origin %s (%s): %s\n", info.Name, info.Addr, describeFault(info.Fault))
	return nil
}

func describeFault(f origin.FaultJSON) string {
	var parts []string
	if f.ErrorRate > 0 {
		st := f.Status
		if st == 0 {
			st = http.StatusInternalServerError
		}
		parts = append(parts, fmt.Sprintf("%g%% of requests answered %d", f.ErrorRate*100, st))
	}
	if f.Latency != "" {
		parts = append(parts, "latency "+f.Latency)
	}
	if f.Refuse {
		parts = append(parts, "refusing connections")
	}
	if len(parts) == 0 {
		return "no fault"
	}
	return strings.Join(parts, ", ")
}
