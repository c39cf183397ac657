package world

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/dnsserver"
	"github.com/cutover/cutover/internal/lab/edgesim"
	"github.com/cutover/cutover/internal/lab/origin"
)

// OriginSpec is a built-in origin to start: its name (its marker is
// ok-<name>) and listen address.
type OriginSpec struct {
	Name string
	Addr string
}

// Options configure the world. Zero values give a world for interactive
// use on fixed ports; tests and the demo ask for ephemeral ports.
type Options struct {
	Lab lab.Options
	// APIAddr is the AWS endpoint (default 127.0.0.1:4566).
	APIAddr string
	// DNSAddr is the authoritative DNS server (default 127.0.0.1:5353).
	DNSAddr string
	// Edges, propagation range, metrics period and health interval of the
	// edge simulator (defaults: 4, 1s..5s, 60s, 5s).
	Edges                          int
	PropagationMin, PropagationMax time.Duration
	MetricsPeriod, HealthInterval  time.Duration
	// HTTPPort/HTTPSPort of every edge (default 80/443); EphemeralPorts
	// picks free ones instead.
	HTTPPort, HTTPSPort int
	EphemeralPorts      bool
	// CAPath receives the lab CA as PEM.
	CAPath string
	// TargetTTL is the TTL of CloudFront and load balancer names (default
	// 60, as AWS answers).
	TargetTTL uint32
	// Origins to start before anything else.
	Origins []OriginSpec
	Seed    uint64
	// Setup, when set, runs once the origins are up and the control plane
	// is built, before anything serves (w.Lab and w.Origins are ready; the
	// addresses are not). Restoring a snapshot or applying a seed there
	// means the world the edges first read already holds it, so it counts
	// as propagated to every edge rather than rolling out.
	Setup func(w *World) error
}

// World is a running lab.
type World struct {
	Lab     *lab.Lab
	API     string // http://host:port
	DNS     string // host:port, UDP and TCP
	Sim     *edgesim.Sim
	Origins *origin.Registry

	api    *http.Server
	dns    *dnsserver.Server
	cancel context.CancelFunc
}

// Start brings the world up; Close takes it down.
func Start(ctx context.Context, o Options) (_ *World, err error) {
	// The deferred Close must see the partly built world, not the nil an
	// error return leaves in a named result.
	w := &World{Origins: origin.NewRegistry()}
	defer func() {
		if err != nil {
			w.Close()
		}
	}()
	for _, os := range o.Origins {
		if _, err := w.Origins.Start(os.Name, os.Addr); err != nil {
			return nil, fmt.Errorf("starting origin %s: %w", os.Name, err)
		}
	}
	w.Lab = lab.New(o.Lab)
	w.Lab.HandleAdmin("/_lab/origins/", w.Origins)
	w.Lab.HandleAdmin("/_lab/origins", w.Origins)
	if o.Setup != nil {
		if err := o.Setup(w); err != nil {
			return nil, err
		}
	}

	apiAddr := orString(o.APIAddr, "127.0.0.1:4566")
	ln, err := net.Listen("tcp", apiAddr)
	if err != nil {
		return nil, fmt.Errorf("listening for the AWS API on %s: %w", apiAddr, err)
	}
	w.api = &http.Server{Handler: w.Lab, ReadHeaderTimeout: 10 * time.Second}
	w.API = "http://" + ln.Addr().String()
	go func() { _ = w.api.Serve(ln) }()

	w.Sim, err = edgesim.New(edgesim.Options{
		Clock:          o.Lab.Clock,
		Distributions:  w.Lab.CloudFront,
		LoadBalancers:  w.Lab.ELB,
		Certificates:   w.Lab.ACM,
		Metrics:        w.Lab.CloudWatch,
		Edges:          o.Edges,
		HTTPPort:       o.HTTPPort,
		HTTPSPort:      o.HTTPSPort,
		EphemeralPorts: o.EphemeralPorts,
		PropagationMin: o.PropagationMin,
		PropagationMax: o.PropagationMax,
		MetricsPeriod:  o.MetricsPeriod,
		HealthInterval: o.HealthInterval,
		CAPath:         o.CAPath,
		Seed:           o.Seed,
	})
	if err != nil {
		return nil, fmt.Errorf("edges: %w", err)
	}
	simCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel = cancel
	if err := w.Sim.Start(simCtx); err != nil {
		return nil, fmt.Errorf("starting edges: %w", err)
	}
	// What Setup built is the state POST /_lab/reset returns to; the DNS
	// server reads the served view live, the edges and origins reset here.
	w.Lab.Mark()
	w.Lab.OnReset(func() {
		w.Origins.ClearFaults()
		w.Sim.Reset()
	})

	ttl := o.TargetTTL
	if ttl == 0 {
		ttl = 60
	}
	w.dns = dnsserver.New(dnsserver.Options{Addr: orString(o.DNSAddr, dnsserver.DefaultAddr), Zones: w.Lab.Route53, Targets: targets{sim: w.Sim, ttl: ttl}})
	if err := w.dns.Start(); err != nil {
		return nil, fmt.Errorf("starting DNS: %w", err)
	}
	w.DNS = w.dns.Addr()
	return w, nil
}

// Close stops every server of the world.
func (w *World) Close() {
	if w.dns != nil {
		_ = w.dns.Close()
	}
	if w.cancel != nil {
		w.cancel()
	}
	if w.Sim != nil {
		_ = w.Sim.Close()
	}
	if w.api != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = w.api.Shutdown(ctx)
		cancel()
	}
	if w.Origins != nil {
		w.Origins.Close()
	}
}

// EdgeAddrs returns the edges' addresses; every *.cloudfront.net name
// resolves to all of them.
func (w *World) EdgeAddrs() []netip.Addr { return w.Sim.Addrs() }

// HTTPPort is the port every edge and load balancer address serves HTTP
// on.
func (w *World) HTTPPort() int { return w.Sim.HTTPPort() }

// HTTPSPort is the port every edge and load balancer address serves HTTPS
// on.
func (w *World) HTTPSPort() int { return w.Sim.HTTPSPort() }

// DNSServer exposes the DNS server (statistics of weighted answers).
func (w *World) DNSServer() *dnsserver.Server { return w.dns }

// AWSConfig returns an aws.Config that reaches the world's control plane
// as the default lab account.
func (w *World) AWSConfig() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(w.API),
		Credentials:  credentials.NewStaticCredentialsProvider(awsapi.DefaultAccessKeyID, awsapi.DefaultSecretAccessKey, ""),
	}
}

// targets answers the AWS-managed names the DNS server does not hold in a
// zone: every CloudFront name resolves to all edges, and each load
// balancer to its own address.
type targets struct {
	sim *edgesim.Sim
	ttl uint32
}

func (t targets) Addrs(name string) (v4, v6 []netip.Addr, ttl uint32, ok bool) {
	n := strings.TrimSuffix(strings.ToLower(name), ".")
	switch {
	case strings.HasSuffix(n, ".cloudfront.net"):
		return t.sim.Addrs(), nil, t.ttl, true
	case strings.HasSuffix(n, ".elb.amazonaws.com"):
		if a := t.sim.AddrsFor(n); len(a) > 0 {
			return a, nil, t.ttl, true
		}
	}
	return nil, nil, 0, false
}

func orString(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
