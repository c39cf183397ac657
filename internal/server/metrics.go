package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

var (
	descRuns      = prometheus.NewDesc("cutover_runs", "Runs in the store, by state.", []string{"state"}, nil)
	descStep      = prometheus.NewDesc("cutover_run_step", "The step (1-based) each active run is at.", []string{"run"}, nil)
	descSteps     = prometheus.NewDesc("cutover_run_steps", "How many steps each active run's runbook has.", []string{"run"}, nil)
	descGate      = prometheus.NewDesc("cutover_gate_value", "The last value each gate of an active run measured.", []string{"run", "gate"}, nil)
	descThreshold = prometheus.NewDesc("cutover_gate_threshold", "The threshold a gate's value is compared against.", []string{"run", "gate"}, nil)
	descDeadline  = prometheus.NewDesc("cutover_run_next_deadline_seconds", "Seconds until an active run's next stored deadline (negative when passed).", []string{"run"}, nil)
)

// collector reads the store at every scrape, so the metrics are those of
// every process that writes it, not only this one.
type collector struct{ s *Server }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRuns, descStep, descSteps, descGate, descThreshold, descDeadline} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	runs, err := c.s.o.Store.ListRuns(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descRuns, err)
		return
	}
	by := map[store.RunState]int{}
	for _, r := range runs {
		by[r.State]++
	}
	for _, st := range store.States {
		ch <- prometheus.MustNewConstMetric(descRuns, prometheus.GaugeValue, float64(by[st]), string(st))
	}
	now := time.Now()
	for _, r := range runs {
		if r.State.Terminal() {
			continue
		}
		rb, err := engine.Runbook(r)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descStep, prometheus.GaugeValue, float64(r.Step+1), r.Name)
		ch <- prometheus.MustNewConstMetric(descSteps, prometheus.GaugeValue, float64(len(rb.Steps)), r.Name)
		if d := nextDeadline(r); !d.IsZero() {
			ch <- prometheus.MustNewConstMetric(descDeadline, prometheus.GaugeValue, d.Sub(now).Seconds(), r.Name)
		}
		for _, g := range rb.Gates {
			if t, ok := Threshold(g); ok {
				ch <- prometheus.MustNewConstMetric(descThreshold, prometheus.GaugeValue, t, r.Name, g.Name)
			}
		}
		evs, err := c.s.o.Store.Events(ctx, r.Name, 0)
		if err != nil {
			continue
		}
		for name, m := range LastMeasurements(evs) {
			ch <- prometheus.MustNewConstMetric(descGate, prometheus.GaugeValue, m.Value, r.Name, name)
		}
	}
}

func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{s})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// LastMeasurements is the latest measurement of each gate in events.
func LastMeasurements(events []store.Event) map[string]gate.Measurement {
	out := map[string]gate.Measurement{}
	for _, e := range events {
		if e.Type != store.EventGateMeasured {
			continue
		}
		var m gate.Measurement
		if json.Unmarshal(e.Data, &m) == nil && m.Gate != "" {
			out[m.Gate] = m
		}
	}
	return out
}

// Threshold is the value a gate compares its measurement against, when its
// kind has one (CloudWatch gates, drain gates).
func Threshold(g runbook.Gate) (float64, bool) {
	var spec map[string]json.RawMessage
	if json.Unmarshal(g.Spec, &spec) != nil {
		return 0, false
	}
	for k, v := range spec {
		if !strings.EqualFold(k, "threshold") {
			continue
		}
		var t float64
		if json.Unmarshal(v, &t) == nil {
			return t, true
		}
	}
	return 0, false
}
