package cloudwatch

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Dimension is one name/value pair of a metric's identity.
type Dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// sample is one published observation. A raw sample is value×count (a
// single Value has count 1; Values/Counts give several); a statistic set
// carries only its aggregate, which is why percentiles cannot always use it.
type sample struct {
	T       int64   `json:"t"` // unix milliseconds
	Recv    int64   `json:"r"` // when it was published, unix milliseconds
	Value   float64 `json:"v,omitempty"`
	Count   float64 `json:"n"`
	Set     bool    `json:"set,omitempty"`
	Sum     float64 `json:"sum,omitempty"`
	Min     float64 `json:"min,omitempty"`
	Max     float64 `json:"max,omitempty"`
	Unit    string  `json:"u,omitempty"`
	HighRes bool    `json:"hr,omitempty"`
}

// series is every sample of one metric identity, ordered by timestamp.
type series struct {
	Namespace string      `json:"namespace"`
	Name      string      `json:"name"`
	Dims      []Dimension `json:"dimensions,omitempty"`
	Samples   []sample    `json:"samples"`
}

func metricKey(namespace, name string, dims []Dimension) string {
	var b strings.Builder
	b.WriteString(namespace)
	b.WriteByte(0)
	b.WriteString(name)
	for _, d := range dims {
		b.WriteByte(0)
		b.WriteString(d.Name)
		b.WriteByte('=')
		b.WriteString(d.Value)
	}
	return b.String()
}

func sortDims(dims []Dimension) []Dimension {
	out := append([]Dimension(nil), dims...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Value < out[j].Value
	})
	return out
}

func dimsFromMap(m map[string]string) []Dimension {
	out := make([]Dimension, 0, len(m))
	for k, v := range m {
		out = append(out, Dimension{Name: k, Value: v})
	}
	return sortDims(out)
}

// insert keeps samples ordered by timestamp; publishers mostly append in
// order, so the search usually lands at the end.
func (s *series) insert(smp sample) {
	i := sort.Search(len(s.Samples), func(i int) bool { return s.Samples[i].T > smp.T })
	s.Samples = append(s.Samples, sample{})
	copy(s.Samples[i+1:], s.Samples[i:])
	s.Samples[i] = smp
}

// bucket aggregates the samples that fall in one period.
type bucket struct {
	start                int64 // unix milliseconds
	n, sum, min, max     float64
	raw                  []sample // samples usable for percentiles
	unit                 string
	percentileImpossible bool
}

func (b *bucket) add(s sample) {
	cnt, sum, lo, hi := s.Count, s.Value*s.Count, s.Value, s.Value
	if s.Set {
		sum, lo, hi = s.Sum, s.Min, s.Max
	}
	if b.n == 0 {
		b.min, b.max = lo, hi
	} else {
		b.min, b.max = math.Min(b.min, lo), math.Max(b.max, hi)
	}
	b.n += cnt
	b.sum += sum
	if b.unit == "" {
		b.unit = s.Unit
	}
	// A statistic set says nothing about the spread of its values unless
	// they are all equal, so it only joins percentiles when Min == Max.
	switch {
	case !s.Set:
		b.raw = append(b.raw, s)
	case s.Min == s.Max || s.Count == 1:
		b.raw = append(b.raw, sample{Value: s.Min, Count: s.Count})
	default:
		b.percentileImpossible = true
	}
}

var statRE = regexp.MustCompile(`^(SampleCount|Sum|Average|Minimum|Maximum|p(\d{1,2}(\.\d{1,10})?|100(\.0{1,10})?))$`)

func validStat(stat string) bool { return statRE.MatchString(stat) }

// value computes stat over the bucket; ok is false when the statistic
// cannot be computed from the stored samples.
func (b *bucket) value(stat string) (float64, bool) {
	if b.n == 0 {
		return 0, false
	}
	switch stat {
	case "SampleCount":
		return b.n, true
	case "Sum":
		return b.sum, true
	case "Average":
		return b.sum / b.n, true
	case "Minimum":
		return b.min, true
	case "Maximum":
		return b.max, true
	}
	if strings.HasPrefix(stat, "p") && !b.percentileImpossible {
		p, err := strconv.ParseFloat(stat[1:], 64)
		if err != nil || p < 0 || p > 100 {
			return 0, false
		}
		return percentile(b.raw, p)
	}
	return 0, false
}

// percentile is the weighted nearest-rank percentile: the smallest value
// whose cumulative count reaches p% of the total count.
func percentile(raw []sample, p float64) (float64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	vals := append([]sample(nil), raw...)
	sort.Slice(vals, func(i, j int) bool { return vals[i].Value < vals[j].Value })
	total := 0.0
	for _, v := range vals {
		total += v.Count
	}
	if total <= 0 {
		return 0, false
	}
	rank := math.Ceil(p / 100 * total)
	cum := 0.0
	for _, v := range vals {
		cum += v.Count
		if cum >= rank && v.Count > 0 {
			return v.Value, true
		}
	}
	return vals[len(vals)-1].Value, true
}

// aggregate buckets the visible samples of s with timestamps in [start, end)
// by period (seconds), buckets aligned to the period from the epoch.
// unit, when set, keeps only samples published with that unit.
func (s *series) aggregate(start, end time.Time, period int64, unit string, now time.Time) []*bucket {
	lo, hi, nowMs := start.UnixMilli(), end.UnixMilli(), now.UnixMilli()
	pms := period * 1000
	i := sort.Search(len(s.Samples), func(i int) bool { return s.Samples[i].T >= lo })
	var out []*bucket
	index := map[int64]*bucket{}
	for ; i < len(s.Samples) && s.Samples[i].T < hi; i++ {
		smp := s.Samples[i]
		if smp.Recv > nowMs || (unit != "" && smp.Unit != unit) {
			continue
		}
		t := smp.T
		if !smp.HighRes && period < 60 {
			// standard-resolution data is stored per minute
			t = floorDiv(t, 60000) * 60000
		}
		key := floorDiv(t, pms) * pms
		b := index[key]
		if b == nil {
			b = &bucket{start: key}
			index[key] = b
			out = append(out, b)
		}
		b.add(smp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// validPeriod reports whether period (seconds) is one CloudWatch accepts.
func validPeriod(period int64) bool {
	switch period {
	case 1, 5, 10, 20, 30:
		return true
	}
	// The longest period that makes sense is the longest retention, 455 days.
	return period >= 60 && period%60 == 0 && period <= 455*24*3600
}

// roundStart rounds a query's start time down the way CloudWatch does: to
// the minute when it is under 15 days old, to five minutes up to 63 days,
// to the hour beyond.
func roundStart(start, now time.Time) time.Time {
	age := now.Sub(start)
	switch {
	case age < 15*24*time.Hour:
		return start.Truncate(time.Minute)
	case age < 63*24*time.Hour:
		return start.Truncate(5 * time.Minute)
	}
	return start.Truncate(time.Hour)
}

func sortSamples(xs []sample) {
	sort.SliceStable(xs, func(i, j int) bool { return xs[i].T < xs[j].T })
}
