package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cutover/cutover/internal/awsconfig"
	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/gate/build"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
)

// compiled is a plan read, resolved against the world and compiled, with
// the digest of the file it was read from.
type compiled struct {
	*observe.Compiled
	digest string
}

// awsConfig loads the AWS configuration for region and an optional role.
func awsConfig(ctx context.Context, region, roleARN string) (aws.Config, error) {
	if region == "" {
		region = "us-east-1"
	}
	return awsconfig.Load(ctx, awsconfig.Options{Region: region, RoleARN: roleARN})
}

// zoneProvider returns the DNS provider for a plan's zone.
func zoneProvider(ctx context.Context, roleARN string) (dns.Provider, error) {
	cfg, err := awsConfig(ctx, "us-east-1", roleARN)
	if err != nil {
		return nil, fmt.Errorf("zone credentials: %w", err)
	}
	return route53.New(cfg, route53.Options{}), nil
}

// loadPlan reads and validates a plan file; problems are usage errors.
func loadPlan(path string) (*plan.Plan, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", usageError(fmt.Errorf("reading plan: %w", err))
	}
	p, err := plan.Parse(path, data)
	if err != nil {
		return nil, "", usageError(err)
	}
	sum := sha256.Sum256(data)
	return p, hex.EncodeToString(sum[:]), nil
}

// compilePlan reads the world the plan names and compiles its runbook.
func compilePlan(ctx context.Context, path string) (*compiled, error) {
	p, digest, err := loadPlan(path)
	if err != nil {
		return nil, err
	}
	c, err := observe.Compile(ctx, p, observeDeps())
	if err != nil {
		var pe *observe.PlanError
		if errors.As(err, &pe) {
			return nil, usageError(err)
		}
		return nil, err
	}
	return &compiled{Compiled: c, digest: digest}, nil
}

// observeDeps reach the world through the AWS APIs.
func observeDeps() observe.Deps {
	return observe.Deps{
		Edges: edge.Resolver{Config: awsConfig},
		Zone:  zoneProvider,
		CDN: func(ctx context.Context, roleARN string) (observe.Distributions, error) {
			return cdnClient(ctx, roleARN)
		},
	}
}

func cdnClient(ctx context.Context, roleARN string) (*cloudfront.Client, error) {
	cfg, err := awsConfig(ctx, "us-east-1", roleARN)
	if err != nil {
		return nil, fmt.Errorf("CloudFront credentials: %w", err)
	}
	return cloudfront.New(cfg, cloudfront.Options{}), nil
}

func printPlan(w io.Writer, c *compiled, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(c.Report())
	}
	for _, d := range c.Plan.Warnings() {
		fmt.Fprintf(w, "%s\n", d)
	}
	runbook.Render(w, c.Runbook, c.From, c.To, observe.AssumedInSync)
	return nil
}

func openStore(path string) (store.Store, error) {
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening state %s: %w", path, err)
	}
	return s, nil
}

// confirm asks on the terminal; only "yes" proceeds.
func confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprintf(out, "\n%s\n  Only 'yes' will be accepted: ", question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// engineFor builds the engine for a stored run: the zone's provider, its
// gates and a verifier when the runbook asks for one.
func engineFor(ctx context.Context, s store.Store, rb *runbook.Runbook, out io.Writer, extra func(*engine.Options)) (*engine.Engine, error) {
	prov, err := zoneProvider(ctx, rb.ZoneRoleARN)
	if err != nil {
		return nil, err
	}
	gates, err := build.Gates(rb, build.Deps{AWSConfig: func(region, roleARN string) (aws.Config, error) { return awsConfig(ctx, region, roleARN) }})
	if err != nil {
		return nil, usageError(err)
	}
	o := engine.Options{Store: s, Provider: prov, Clock: clock.Real{}, Gates: gates, OnEvent: progress(ctx, out)}
	if rb.UsesCDN() {
		cf, err := cdnClient(ctx, rb.CDNRoleARN)
		if err != nil {
			return nil, err
		}
		o.CDN = cf
		if len(rb.DistributionRoles) > 0 {
			by := map[string]*cloudfront.Client{}
			for id, role := range rb.DistributionRoles {
				if by[id], err = cdnClient(ctx, role); err != nil {
					return nil, err
				}
			}
			o.CDN = cloudfront.NewAccounts(cf, by)
		}
	}
	if extra != nil {
		extra(&o)
	}
	return engine.New(o), nil
}

// progress prints each committed event as one line and, while the run
// waits out a deadline, how long is left every countdownEvery.
func progress(ctx context.Context, w io.Writer) func(store.Event) {
	var mu sync.Mutex
	var until time.Time
	var what string
	go func() {
		t := time.NewTicker(countdownEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				mu.Lock()
				if left := until.Sub(now); left > 0 {
					fmt.Fprintf(w, "%s  ... %s: %s left (until %s)\n", now.Format("15:04:05"), what, left.Round(time.Second), until.Local().Format("15:04:05"))
				}
				mu.Unlock()
			}
		}
	}()
	return func(e store.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Type {
		case "wait.started":
			var d struct {
				Until time.Time `json:"until"`
			}
			if json.Unmarshal(e.Data, &d) == nil {
				until, what = d.Until, fmt.Sprintf("step %d", e.Step+1)
			}
		case "wait.done", "run.paused", "rollback.started", "run.done", "run.rolled-back":
			until = time.Time{}
		}
		fmt.Fprintf(w, "%s  step %-3d %-18s %s\n", e.Time.Local().Format("15:04:05"), e.Step+1, e.Type, e.Message)
	}
}

// countdownEvery is how often a waiting run prints the time left.
var countdownEvery = 15 * time.Second

// runExit maps a run's final state to the exit code scripts rely on.
func runExit(r store.Run) error {
	switch r.State {
	case store.StateDone:
		return nil
	case store.StatePaused:
		return &exitError{code: exitPaused, err: fmt.Errorf("run %s paused: %s (continue with `cutover resume %s`, or `cutover rollback %s`)", r.Name, r.Reason, r.Name, r.Name)}
	case store.StateRolledBack:
		return &exitError{code: exitFailure, err: fmt.Errorf("run %s rolled back: %s", r.Name, r.Reason)}
	}
	return &exitError{code: exitFailure, err: fmt.Errorf("run %s ended %s: %s", r.Name, r.State, r.Reason)}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
