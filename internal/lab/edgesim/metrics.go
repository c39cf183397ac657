package edgesim

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/elbv2"
)

// maxResponseSamples bounds the per-request TargetResponseTime samples
// kept for one load balancer in one period; beyond it every other sample is
// dropped, which keeps percentiles honest enough for a lab.
const maxResponseSamples = 20000

type distCount struct {
	account             string
	requests, c4xx, c5x int64
}

type rtSample struct {
	t time.Time
	v float64
}

type lbCount struct {
	account, lbDim string
	// perTG holds request, target-5xx and response-time figures per target
	// group dimension; the load balancer totals are their sum.
	perTG  map[string]*tgCount
	elb5xx int64
	req    int64
}

type tgCount struct {
	requests, target5xx int64
	rt                  []rtSample
	dropped             int64
}

// meters accumulates one metrics period and feeds Prometheus continuously.
type meters struct {
	mu    sync.Mutex
	dists map[string]*distCount
	lbs   map[string]*lbCount

	reg  *prometheus.Registry
	reqs *prometheus.CounterVec
	dur  *prometheus.HistogramVec
}

func newMeters() *meters {
	m := &meters{dists: map[string]*distCount{}, lbs: map[string]*lbCount{}, reg: prometheus.NewRegistry()}
	m.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lab_edge_requests_total",
		Help: "Requests answered by the lab's edges, by edge, what served them (a distribution id, a load balancer name, or none) and status class.",
	}, []string{"edge", "kind", "target", "code"})
	m.dur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lab_edge_request_duration_seconds",
		Help:    "Time from request to origin response at the lab's edges.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"edge", "kind"})
	m.reg.MustRegister(m.reqs, m.dur)
	return m
}

func codeClass(status int) string { return strconv.Itoa(status/100) + "xx" }

func (m *meters) distribution(w where, v *cloudfront.View, status int, d time.Duration) {
	target := "none"
	if v != nil {
		target = v.ID
		m.mu.Lock()
		c := m.dists[v.ID]
		if c == nil {
			c = &distCount{account: v.AccountID}
			m.dists[v.ID] = c
		}
		c.requests++
		switch status / 100 {
		case 4:
			c.c4xx++
		case 5:
			c.c5x++
		}
		m.mu.Unlock()
	}
	m.reqs.WithLabelValues(edgeLabel(w), "distribution", target, codeClass(status)).Inc()
	m.dur.WithLabelValues(edgeLabel(w), "distribution").Observe(d.Seconds())
}

// lbDimension is the LoadBalancer dimension: the ARN after ":loadbalancer/".
func lbDimension(arn string) string {
	_, suffix, ok := strings.Cut(arn, ":loadbalancer/")
	if !ok {
		return arn
	}
	return suffix
}

// tgDimension is the TargetGroup dimension: "targetgroup/<name>/<id>".
func tgDimension(arn string) string {
	if i := strings.Index(arn, ":targetgroup/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// loadBalancer counts one request; byELB marks a response the load
// balancer generated itself, rt is the target's response time otherwise.
func (m *meters) loadBalancer(lb *elbv2.LB, tg *elbv2.TargetGroup, status int, byELB bool, rt time.Duration, now time.Time) {
	m.mu.Lock()
	c := m.lbs[lb.ARN]
	if c == nil {
		c = &lbCount{account: lb.AccountID, lbDim: lbDimension(lb.ARN), perTG: map[string]*tgCount{}}
		m.lbs[lb.ARN] = c
	}
	c.req++
	if byELB {
		if status >= 500 {
			c.elb5xx++
		}
	} else if tg != nil {
		t := c.perTG[tgDimension(tg.ARN)]
		if t == nil {
			t = &tgCount{}
			c.perTG[tgDimension(tg.ARN)] = t
		}
		t.requests++
		if status >= 500 {
			t.target5xx++
		}
		if len(t.rt) < maxResponseSamples {
			t.rt = append(t.rt, rtSample{t: now, v: rt.Seconds()})
		} else {
			t.dropped++
		}
	}
	m.mu.Unlock()
	m.reqs.WithLabelValues("lb", "loadbalancer", lb.Name, codeClass(status)).Inc()
	m.dur.WithLabelValues("lb", "loadbalancer").Observe(rt.Seconds())
}

func (m *meters) take() (map[string]*distCount, map[string]*lbCount) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, l := m.dists, m.lbs
	m.dists, m.lbs = map[string]*distCount{}, map[string]*lbCount{}
	return d, l
}

// MetricsHandler serves the edges' Prometheus metrics.
func (s *Sim) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.met.reg, promhttp.HandlerOpts{})
}

// Registry exposes the Prometheus registry, for a lab that serves one
// combined /metrics.
func (s *Sim) Registry() *prometheus.Registry { return s.met.reg }

// Flush publishes the period's counts to Metrics, stamped with the clock's
// current time, and starts a new period. The metrics loop calls it every
// MetricsPeriod; tests call it directly.
func (s *Sim) Flush() error {
	dists, lbs := s.met.take()
	if s.opts.Metrics == nil {
		return nil
	}
	now := s.opts.Clock.Now()
	var errs []error
	put := func(account, ns, metric string, dims map[string]string, t time.Time, v float64, unit string) {
		if err := s.opts.Metrics.Put(account, ns, metric, dims, t, v, unit); err != nil {
			errs = append(errs, fmt.Errorf("publishing %s/%s: %w", ns, metric, err))
		}
	}
	ids := make([]string, 0, len(dists))
	for id := range dists {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := dists[id]
		dims := map[string]string{"DistributionId": id, "Region": "Global"}
		n := float64(c.requests)
		put(c.account, "AWS/CloudFront", "Requests", dims, now, n, "None")
		put(c.account, "AWS/CloudFront", "4xxErrorRate", dims, now, 100*float64(c.c4xx)/n, "Percent")
		put(c.account, "AWS/CloudFront", "5xxErrorRate", dims, now, 100*float64(c.c5x)/n, "Percent")
		put(c.account, "AWS/CloudFront", "TotalErrorRate", dims, now, 100*float64(c.c4xx+c.c5x)/n, "Percent")
	}
	arns := make([]string, 0, len(lbs))
	for arn := range lbs {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	for _, arn := range arns {
		c := lbs[arn]
		lbDims := map[string]string{"LoadBalancer": c.lbDim}
		put(c.account, "AWS/ApplicationELB", "RequestCount", lbDims, now, float64(c.req), "Count")
		if c.elb5xx > 0 {
			put(c.account, "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lbDims, now, float64(c.elb5xx), "Count")
		}
		var t5xx int64
		for tgDim, t := range c.perTG {
			t5xx += t.target5xx
			tgDims := map[string]string{"LoadBalancer": c.lbDim, "TargetGroup": tgDim}
			put(c.account, "AWS/ApplicationELB", "RequestCount", tgDims, now, float64(t.requests), "Count")
			if t.target5xx > 0 {
				put(c.account, "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", tgDims, now, float64(t.target5xx), "Count")
			}
			// One sample per request, so p99 over the period is real.
			for _, smp := range t.rt {
				put(c.account, "AWS/ApplicationELB", "TargetResponseTime", lbDims, smp.t, smp.v, "Seconds")
				put(c.account, "AWS/ApplicationELB", "TargetResponseTime", tgDims, smp.t, smp.v, "Seconds")
			}
		}
		if t5xx > 0 {
			put(c.account, "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lbDims, now, float64(t5xx), "Count")
		}
	}
	s.mu.Lock()
	lbList := append([]elbv2.LB(nil), s.lbs...)
	s.mu.Unlock()
	for _, lb := range lbList {
		for _, tg := range lb.TargetGroups {
			healthy, unhealthy := 0, 0
			for _, t := range tg.Targets {
				switch t.State {
				case elbv2.StateHealthy:
					healthy++
				case elbv2.StateUnhealthy, elbv2.StateUnhealthyDraining:
					unhealthy++
				}
			}
			dims := map[string]string{"LoadBalancer": lbDimension(lb.ARN), "TargetGroup": tgDimension(tg.ARN)}
			put(lb.AccountID, "AWS/ApplicationELB", "HealthyHostCount", dims, now, float64(healthy), "Count")
			put(lb.AccountID, "AWS/ApplicationELB", "UnHealthyHostCount", dims, now, float64(unhealthy), "Count")
		}
	}
	return errors.Join(errs...)
}
