package bridge

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics live in a registry owned by one Server, so several servers (tests,
// or a reload that rebuilds routes) never collide on global state.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	upErrors *prometheus.CounterVec
	inFlight *prometheus.GaugeVec
	rejected *prometheus.CounterVec
	reloads  *prometheus.CounterVec
	// accessDropped counts access log lines the sink could not take in time.
	accessDropped prometheus.Counter
	routeSets     sync.Map // route host -> *routeMetrics
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cutover_bridge_requests_total",
			Help: "Requests answered, by route and HTTP status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cutover_bridge_request_duration_seconds",
			Help:    "Time from request received to response handler return, by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		upErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cutover_bridge_upstream_errors_total",
			Help: "Transport failures talking to upstreams (dial, TLS, timeout, reset), by route.",
		}, []string{"route"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cutover_bridge_in_flight_requests",
			Help: "Requests being forwarded right now, by route.",
		}, []string{"route"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cutover_bridge_rejected_total",
			Help: "Requests refused before forwarding, by reason.",
		}, []string{"reason"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cutover_bridge_reloads_total",
			Help: "Configuration reloads, by result.",
		}, []string{"result"}),
	}
	m.accessDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cutover_bridge_access_log_dropped_total",
		Help: "Access log lines dropped because the log sink fell behind.",
	})
	m.reg.MustRegister(m.requests, m.duration, m.upErrors, m.inFlight, m.rejected, m.reloads, m.accessDropped,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// watchPlain exports how the plain listener's requests were served: by
// which loop, and how many connections each loop passed on.
func (m *metrics) watchPlain(fs *fastServer) {
	const (
		served = "cutover_bridge_plain_requests_total"
		passed = "cutover_bridge_plain_passed_on_total"
	)
	help := map[string]string{
		served: "Plain-HTTP requests served by the bridge's own loops (the rest went to net/http), by loop.",
		passed: "Plain-HTTP connections passed on: by the event loops to the goroutine loop, by that loop to net/http.",
	}
	counter := func(name, label, value string, f func() int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: name, Help: help[name], ConstLabels: prometheus.Labels{label: value},
		}, func() float64 { return float64(f()) })
	}
	m.reg.MustRegister(
		counter(served, "loop", "event", fs.evServed.Load),
		counter(served, "loop", "goroutine", func() int64 { return fs.served.Load() - fs.evServed.Load() }),
		counter(passed, "to", "goroutine_loop", fs.escaped.Load),
		counter(passed, "to", "net_http", fs.handedOver.Load),
	)
}

// routeMetrics caches the label-resolved children for one route so the hot
// path does no label hashing.
type routeMetrics struct {
	duration prometheus.Observer
	upErrors prometheus.Counter
	inFlight prometheus.Gauge
	vec      *prometheus.CounterVec
	route    string
	codes    sync.Map // int -> prometheus.Counter
}

func (m *metrics) forRoute(route string) *routeMetrics {
	if v, ok := m.routeSets.Load(route); ok {
		return v.(*routeMetrics)
	}
	rm := &routeMetrics{
		duration: m.duration.WithLabelValues(route),
		upErrors: m.upErrors.WithLabelValues(route),
		inFlight: m.inFlight.WithLabelValues(route),
		vec:      m.requests,
		route:    route,
	}
	v, _ := m.routeSets.LoadOrStore(route, rm)
	return v.(*routeMetrics)
}

func (rm *routeMetrics) count(code int) {
	if c, ok := rm.codes.Load(code); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	c := rm.vec.WithLabelValues(rm.route, strconv.Itoa(code))
	rm.codes.Store(code, c)
	c.Inc()
}
