package load

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Summary totals a run.
type Summary struct {
	Total    int64            `json:"total"`
	ByClass  map[Class]int64  `json:"by_class"`
	ByOrigin map[string]int64 `json:"by_origin"`
	ByStatus map[int]int64    `json:"by_status,omitempty"`
	ByEdge   map[string]int64 `json:"by_edge,omitempty"`
	// Errors breaks failures down by class and cause.
	Errors map[string]int64 `json:"errors,omitempty"`
	P50    time.Duration    `json:"p50"`
	P99    time.Duration    `json:"p99"`
}

// Second is one second of the time series.
type Second struct {
	Second   int              `json:"second"`
	Total    int64            `json:"total"`
	ByOrigin map[string]int64 `json:"by_origin"`
	Failures int64            `json:"failures"`
}

// Report is what a run produced.
type Report struct {
	Host     string        `json:"host"`
	Elapsed  time.Duration `json:"elapsed"`
	Summary  Summary       `json:"summary"`
	Series   []Second      `json:"series"`
	Clients  int           `json:"clients"`
	Rate     float64       `json:"rate"`
	Overstay float64       `json:"overstay_fraction"`
}

// Failed reports whether the class is a failure: anything but ok and a
// maintenance page, which is the answer a planned outage gives.
func (c Class) Failed() bool { return c != ClassOK && c != ClassMaintenance }

// latency histogram: log-spaced buckets from 50 µs to ~60 s keep the
// percentiles within a few percent without storing every sample.
const (
	bucketBase   = 50 * time.Microsecond
	bucketGrowth = 1.05
	bucketCount  = 300
)

type aggregate struct {
	sum     Summary
	buckets [bucketCount]int64
	series  map[int]*Second
}

func newAggregate() *aggregate {
	return &aggregate{
		sum:    Summary{ByClass: map[Class]int64{}, ByOrigin: map[string]int64{}, ByStatus: map[int]int64{}, ByEdge: map[string]int64{}, Errors: map[string]int64{}},
		series: map[int]*Second{},
	}
}

func bucketOf(d time.Duration) int {
	i := 0
	for b := float64(bucketBase); float64(d) > b && i < bucketCount-1; b *= bucketGrowth {
		i++
	}
	return i
}

func bucketUpper(i int) time.Duration {
	b := float64(bucketBase)
	for range i {
		b *= bucketGrowth
	}
	return time.Duration(b)
}

func (a *aggregate) add(r Result, start time.Time) {
	s := &a.sum
	s.Total++
	s.ByClass[r.Class]++
	if r.Origin != "" {
		s.ByOrigin[r.Origin]++
	}
	if r.Status != 0 {
		s.ByStatus[r.Status]++
	}
	if r.Edge != "" {
		s.ByEdge[r.Edge]++
	}
	if r.Class.Failed() {
		key := string(r.Class)
		switch {
		case r.Error != "":
			key += ": " + r.Error
		case r.Status != 0:
			key += fmt.Sprintf(": %d", r.Status)
		}
		s.Errors[key]++
	}
	a.buckets[bucketOf(r.Latency)]++
	sec := int(r.At.Sub(start) / time.Second)
	b := a.series[sec]
	if b == nil {
		b = &Second{Second: sec, ByOrigin: map[string]int64{}}
		a.series[sec] = b
	}
	b.Total++
	if r.Class.Failed() {
		b.Failures++
	} else if r.Origin != "" {
		b.ByOrigin[r.Origin]++
	} else {
		b.ByOrigin["?"]++
	}
}

func (a *aggregate) percentile(p float64) time.Duration {
	if a.sum.Total == 0 {
		return 0
	}
	rank := int64(p*float64(a.sum.Total) + 0.999999)
	var seen int64
	for i, n := range a.buckets {
		seen += n
		if seen >= rank {
			return bucketUpper(i)
		}
	}
	return bucketUpper(bucketCount - 1)
}

func (a *aggregate) report(cfg Config, start time.Time) *Report {
	r := &Report{Host: cfg.Host, Elapsed: time.Since(start), Clients: cfg.Clients, Rate: cfg.Rate, Overstay: cfg.OverstayFraction}
	s := a.sum
	r.Summary = Summary{
		Total: s.Total, ByClass: copyMap(s.ByClass), ByOrigin: copyMap(s.ByOrigin), ByStatus: copyMap(s.ByStatus),
		ByEdge: copyMap(s.ByEdge), Errors: copyMap(s.Errors), P50: a.percentile(0.50), P99: a.percentile(0.99),
	}
	keys := make([]int, 0, len(a.series))
	for k := range a.series {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		b := *a.series[k]
		b.ByOrigin = copyMap(b.ByOrigin)
		r.Series = append(r.Series, b)
	}
	return r
}

func copyMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// JSON renders the report.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// Origins returns every origin name seen, sorted, with "?" (answers
// without a marker) last.
func (r *Report) Origins() []string {
	set := map[string]bool{}
	for _, s := range r.Series {
		for o := range s.ByOrigin {
			set[o] = true
		}
	}
	var out []string
	for o := range set {
		if o != "?" {
			out = append(out, o)
		}
	}
	sort.Strings(out)
	if set["?"] {
		out = append(out, "?")
	}
	return out
}

// WriteText renders the summary and the per-second series as aligned
// text.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	s := r.Summary
	fmt.Fprintf(&b, "load %s: %d requests in %s, p50 %s, p99 %s\n", r.Host, s.Total, r.Elapsed.Round(time.Millisecond), s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond))
	for _, c := range sortedKeys(s.ByClass) {
		fmt.Fprintf(&b, "  %-12s %8d\n", c, s.ByClass[c])
	}
	for _, o := range sortedKeys(s.ByOrigin) {
		fmt.Fprintf(&b, "  origin %-18s %8d\n", o, s.ByOrigin[o])
	}
	for _, e := range sortedKeys(s.Errors) {
		fmt.Fprintf(&b, "  error %-40s %8d\n", e, s.Errors[e])
	}
	origins := r.Origins()
	width := 8
	for _, o := range origins {
		width = max(width, len(o)+1)
	}
	fmt.Fprintf(&b, "\n%6s %*s", "second", width, "total")
	for _, o := range origins {
		fmt.Fprintf(&b, " %*s", width, o)
	}
	fmt.Fprintf(&b, " %*s\n", width, "failed")
	for _, sec := range r.Series {
		fmt.Fprintf(&b, "%6d %*d", sec.Second, width, sec.Total)
		for _, o := range origins {
			fmt.Fprintf(&b, " %*d", width, sec.ByOrigin[o])
		}
		fmt.Fprintf(&b, " %*d\n", width, sec.Failures)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Text is WriteText into a string.
func (r *Report) Text() string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
