package lab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/lab/acm"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/cloudwatch"
	"github.com/cutover/cutover/internal/lab/elbv2"
	"github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/lab/sts"
)

// Options tune the lab's emulated delays and limits. The zero value gives
// the defaults documented on each field.
type Options struct {
	// Clock measures every emulated delay. Default: the wall clock.
	Clock clock.Clock
	// Propagation is how long a Route 53 change stays PENDING (default 2s);
	// PropagationMax > Propagation adds per-change jitter.
	Propagation, PropagationMax time.Duration
	// DeployDelay is how long a CloudFront change stays InProgress (default
	// 5s); DeployJitter adds a random part.
	DeployDelay, DeployJitter time.Duration
	// RateLimit is Route 53's throttling model: legacy (5/s, default),
	// buckets, or off.
	RateLimit route53.RateLimit
	// HealthyAfter is how long a new ELB target stays "initial" (default 30s).
	HealthyAfter time.Duration
	// Seed makes generated ids and random choices repeatable; 0 seeds from
	// the time.
	Seed int64
}

// Lab is the control plane: every emulated service sharing one clock,
// one keyring and one change history.
type Lab struct {
	Env        awsapi.Env
	Route53    *route53.Service
	CloudFront *cloudfront.Service
	CloudWatch *cloudwatch.Service
	ACM        *acm.Service
	ELB        *elbv2.Service
	STS        *sts.Service

	services map[string]service
	admin    *http.ServeMux

	resetMu  sync.Mutex
	seedSnap []byte   // the state Reset returns to (Mark)
	onReset  []func() // the data plane's own resets
}

// New builds a lab with its services wired to one another: CloudFront
// checks certificates in the lab's ACM and alias proofs in the lab's
// Route 53; ACM validates through the lab's Route 53.
func New(o Options) *Lab {
	env := awsapi.NewEnv(o.Clock)
	l := &Lab{Env: env}
	l.Route53 = route53.New(env, route53.Options{Propagation: o.Propagation, PropagationMax: o.PropagationMax, RateLimit: o.RateLimit, Seed: o.Seed})
	l.ELB = elbv2.New(env, elbv2.Options{HealthyAfter: o.HealthyAfter})
	l.ACM = acm.New(env, acm.Options{DNS: l.Route53, InUse: l.certificateUsers})
	l.CloudFront = cloudfront.New(env, cloudfront.Options{DeployDelay: o.DeployDelay, DeployJitter: o.DeployJitter, Certificates: certAdapter{l.ACM}, DNS: l.Route53, Seed: uint64(o.Seed)})
	l.CloudWatch = cloudwatch.New(env, cloudwatch.Options{})
	l.STS = sts.New(env, sts.Options{})
	l.services = map[string]service{
		"route53":              {l.Route53, protoXML},
		"cloudfront":           {l.CloudFront, protoXML},
		"monitoring":           {l.CloudWatch, protoCloudWatch},
		"acm":                  {l.ACM, protoJSON11},
		"elasticloadbalancing": {l.ELB, protoXML},
		"sts":                  {l.STS, protoXML},
	}
	l.admin = http.NewServeMux()
	l.admin.HandleFunc("GET /_lab/history", l.serveHistory)
	l.admin.HandleFunc("GET /_lab/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "services": l.serviceNames()})
	})
	l.admin.HandleFunc("POST /_lab/reset", l.serveReset)
	l.admin.HandleFunc("GET /_lab/snapshot", func(w http.ResponseWriter, _ *http.Request) {
		snap, err := l.Snapshot()
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(snap)
	})
	l.Mark()
	return l
}

// HandleAdmin mounts an extra handler under /_lab/ (the data plane adds
// its own endpoints there).
func (l *Lab) HandleAdmin(pattern string, h http.Handler) { l.admin.Handle(pattern, h) }

func (l *Lab) serviceNames() []string {
	return []string{"route53", "cloudfront", "monitoring", "acm", "elasticloadbalancing", "sts"}
}

// certificateUsers names what uses a certificate: listeners and
// distributions, so ACM refuses to delete it.
func (l *Lab) certificateUsers(arn string) []string {
	users := l.ELB.CertificateUsers(arn)
	for _, d := range l.CloudFront.List() {
		if d.CertificateArn == arn {
			users = append(users, d.ARN)
		}
	}
	return users
}

type certAdapter struct{ acm *acm.Service }

func (c certAdapter) Certificate(arn string) (cloudfront.CertInfo, bool) {
	info, ok := c.acm.Certificate(arn)
	if !ok {
		return cloudfront.CertInfo{}, false
	}
	return cloudfront.CertInfo{AccountID: info.AccountID, Status: info.Status, Domains: info.Domains}, true
}

// ServeHTTP authenticates the request from its SigV4 credential scope, puts
// the caller's identity in the context, and hands it to the service the
// scope names.
func (l *Lab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_lab/") {
		l.admin.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == motoReset {
		l.serveReset(w, r)
		return
	}
	name := serviceFor(r)
	svc, ok := l.services[name]
	if !ok {
		awsapi.WriteXMLError(w, "", awsapi.Errorf(http.StatusBadRequest, "UnknownService",
			"the lab serves route53, cloudfront, monitoring (CloudWatch), acm, elasticloadbalancing and sts; this request names %q", name))
		return
	}
	authed, aerr := l.Env.Keys.Authenticate(r)
	if aerr != nil {
		writeError(w, r, svc.protocol, aerr)
		return
	}
	svc.handler.ServeHTTP(w, authed)
}

func (l *Lab) serveHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, _ := strconv.ParseInt(q.Get("since"), 10, 64)
	writeJSON(w, http.StatusOK, l.Env.History.List(awsapi.Filter{Service: q.Get("service"), Resource: q.Get("resource"), SinceSeq: since}))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// snapshot is the lab's state file: one entry per service.
type snapshot struct {
	Version  int                        `json:"version"`
	Services map[string]json.RawMessage `json:"services"`
}

type snapshotter interface {
	Snapshot() (json.RawMessage, error)
	Restore(json.RawMessage) error
}

func (l *Lab) snapshotters() map[string]snapshotter {
	return map[string]snapshotter{
		"route53": l.Route53, "cloudfront": l.CloudFront, "monitoring": l.CloudWatch,
		"acm": l.ACM, "elasticloadbalancing": l.ELB, "sts": l.STS,
	}
}

// Snapshot returns the whole lab's state as JSON.
func (l *Lab) Snapshot() ([]byte, error) {
	s := snapshot{Version: 1, Services: map[string]json.RawMessage{}}
	for name, svc := range l.snapshotters() {
		raw, err := svc.Snapshot()
		if err != nil {
			return nil, fmt.Errorf("snapshot of %s: %w", name, err)
		}
		s.Services[name] = raw
	}
	return json.MarshalIndent(s, "", "  ")
}

// Restore loads a snapshot written by Snapshot.
func (l *Lab) Restore(data []byte) error {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("reading lab snapshot: %w", err)
	}
	if s.Version != 1 {
		return fmt.Errorf("lab snapshot version %d: this build reads version 1", s.Version)
	}
	for name, svc := range l.snapshotters() {
		if raw, ok := s.Services[name]; ok {
			if err := svc.Restore(raw); err != nil {
				return fmt.Errorf("restoring %s: %w", name, err)
			}
		}
	}
	return nil
}

// SaveSnapshot writes the snapshot to path atomically.
func (l *Lab) SaveSnapshot(path string) error {
	data, err := l.Snapshot()
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("writing lab snapshot: %w", err)
	}
	return os.Rename(tmp, path)
}
