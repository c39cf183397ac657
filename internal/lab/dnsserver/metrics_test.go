package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

func TestPrometheusCollector(t *testing.T) {
	s := newTestServer(weightedZone(), nil, 4)
	const n = 200
	got := shares(t, s, "www.example.com.", n)
	ask(t, s, "www.example.org.", dns.TypeA)

	reg := prometheus.NewRegistry()
	if err := reg.Register(s); err != nil {
		t.Fatalf("Register: %v", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	values := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			values[key] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"lab_dns_queries_total rcode=NOERROR":                                 n,
		"lab_dns_queries_total rcode=REFUSED":                                 1,
		"lab_dns_answers_chosen_total name=www.example.com. set=red type=A":   float64(got["192.0.2.3"]),
		"lab_dns_answers_chosen_total name=www.example.com. set=green type=A": float64(got["192.0.2.2"]),
	}
	for k, v := range want {
		if values[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, values[k], v, values)
		}
	}
}
