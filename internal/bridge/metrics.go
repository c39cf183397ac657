package bridge

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics live in a registry owned by one Server, so several servers (tests,
// or a reload that rebuilds routes) never collide on global state.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	upErrors  *prometheus.CounterVec
	inFlight  *prometheus.GaugeVec
	rejected  *prometheus.CounterVec
	reloads   *prometheus.CounterVec
	routeSets sync.Map // route host -> *routeMetrics
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
	m.reg.MustRegister(m.requests, m.duration, m.upErrors, m.inFlight, m.rejected, m.reloads,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
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
