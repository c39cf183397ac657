package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/route53"
)

type labFlags struct {
	api            string
	seed           string
	envFile        string
	snapshot       string
	propagation    time.Duration
	propagationMax time.Duration
	deployDelay    time.Duration
	rateLimit      string
}

func newLabCmd() *cobra.Command {
	var f labFlags
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run the built-in lab: a local, wire-compatible AWS control plane",
		Long: `Run the lab in the foreground until interrupted (Ctrl-C, SIGTERM).

The lab emulates Route 53, CloudFront, CloudWatch, ACM, ELBv2 and STS on one HTTP
address, following AWS's documented behaviour: atomic change batches, exact-match
DELETE, CNAMEAlreadyExists, ETag/If-Match, InProgress→Deployed, PENDING→INSYNC,
rate limits. The AWS SDKs and the aws CLI work against it unchanged once
AWS_ENDPOINT_URL points at it; the lab prints the environment to use (and writes
it to --env-file) as soon as it is ready.

Two accounts exist, 111111111111 (the keys printed) and 222222222222; a role
chain through STS reaches the second, as in a cross-account migration.

Every accepted write is kept in an append-only history:
  curl -s http://127.0.0.1:4566/_lab/history`,
		Example: `  cutover lab
  cutover lab --seed lab.yaml --env-file lab.env
  . ./lab.env && aws route53 list-hosted-zones`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLab(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.api, "api", "127.0.0.1:4566", "address of the AWS API endpoint")
	fl.StringVar(&f.seed, "seed", "", "YAML file creating zones, records, certificates, distributions, load balancers and roles at start")
	fl.StringVar(&f.envFile, "env-file", "", "write the AWS_* environment to this file once ready")
	fl.StringVar(&f.snapshot, "snapshot", "", "load state from this file at start (if it exists) and save it on exit")
	fl.DurationVar(&f.propagation, "propagation", 2*time.Second, "how long a Route 53 change stays PENDING")
	fl.DurationVar(&f.propagationMax, "propagation-max", 0, "when above --propagation, each change's delay is uniform in between")
	fl.DurationVar(&f.deployDelay, "deploy-delay", 5*time.Second, "how long a CloudFront change stays InProgress")
	fl.StringVar(&f.rateLimit, "rate-limit", "legacy", "Route 53 throttling: legacy (5/s per account), buckets, off")
	return cmd
}

func init() { rootCmd.AddCommand(newLabCmd()) }

// envLines is the environment that points AWS clients at the lab.
func envLines(endpoint string) string {
	return fmt.Sprintf("export AWS_ENDPOINT_URL=%s\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_REGION=us-east-1\nexport AWS_DEFAULT_REGION=us-east-1\n",
		endpoint, awsapi.DefaultAccessKeyID, awsapi.DefaultSecretAccessKey)
}

func runLab(ctx context.Context, out io.Writer, f labFlags) error {
	switch route53.RateLimit(f.rateLimit) {
	case route53.RateLimitLegacy, route53.RateLimitBuckets, route53.RateLimitOff:
	default:
		return usageError(fmt.Errorf("--rate-limit %q: want legacy, buckets or off", f.rateLimit))
	}
	l := lab.New(lab.Options{Propagation: f.propagation, PropagationMax: f.propagationMax, DeployDelay: f.deployDelay, RateLimit: route53.RateLimit(f.rateLimit)})
	if f.snapshot != "" {
		if data, err := os.ReadFile(f.snapshot); err == nil {
			if err := l.Restore(data); err != nil {
				return usageError(fmt.Errorf("--snapshot %s: %w", f.snapshot, err))
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--snapshot: %w", err)
		}
	}
	if f.seed != "" {
		s, err := lab.LoadSeed(f.seed)
		if err != nil {
			return usageError(err)
		}
		if _, err := l.Apply(s); err != nil {
			return usageError(fmt.Errorf("applying seed %s: %w", f.seed, err))
		}
	}
	ln, err := net.Listen("tcp", f.api)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", f.api, err)
	}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	endpoint := "http://" + ln.Addr().String()
	env := envLines(endpoint)
	if f.envFile != "" {
		if err := os.WriteFile(f.envFile, []byte(env), 0o600); err != nil {
			return fmt.Errorf("writing --env-file: %w", err)
		}
	}
	fmt.Fprintf(out, "# cutover lab ready: AWS API on %s (history: %s/_lab/history)\n%s", endpoint, endpoint, env)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("lab API server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if f.snapshot != "" {
		if err := l.SaveSnapshot(f.snapshot); err != nil {
			return err
		}
		fmt.Fprintf(out, "# lab state saved to %s\n", f.snapshot)
	}
	return nil
}
