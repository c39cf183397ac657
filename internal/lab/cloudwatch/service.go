package cloudwatch

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Options tunes the emulation.
type Options struct {
	// Region appears in alarm ARNs. Default us-east-1, where CloudFront
	// metrics live.
	Region string
	// IngestDelay hides a sample from reads until this long after it was
	// published, like CloudWatch's ~2 minute delay for 1-minute data.
	// Default 0: visible at once.
	IngestDelay time.Duration
}

// Service is the emulated CloudWatch. It is safe for concurrent use.
type Service struct {
	env  awsapi.Env
	opts Options

	mu       sync.Mutex
	accounts map[string]*account
}

type account struct {
	Series map[string]*series `json:"series"`
	Alarms map[string]*alarm  `json:"alarms"`
}

// New returns an empty CloudWatch on env.
func New(env awsapi.Env, opts Options) *Service {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if env.Clock == nil {
		env.Clock = clock.Real{}
	}
	if env.History == nil {
		env.History = awsapi.NewHistory(env.Clock)
	}
	return &Service{env: env, opts: opts, accounts: map[string]*account{}}
}

// acct returns the account's store, creating it. Callers hold s.mu.
func (s *Service) acct(id string) *account {
	a := s.accounts[id]
	if a == nil {
		a = &account{Series: map[string]*series{}, Alarms: map[string]*alarm{}}
		s.accounts[id] = a
	}
	return a
}

type handler func(s *Service, id awsapi.Identity, req request) (obj, error)

var operations = map[string]handler{
	"PutMetricData":       (*Service).putMetricData,
	"GetMetricData":       (*Service).getMetricData,
	"GetMetricStatistics": (*Service).getMetricStatistics,
	"ListMetrics":         (*Service).listMetrics,
	"PutMetricAlarm":      (*Service).putMetricAlarm,
	"DescribeAlarms":      (*Service).describeAlarms,
	"DeleteAlarms":        (*Service).deleteAlarms,
}

// ServeHTTP answers one CloudWatch API call in whichever protocol it came.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := decodeRequest(r)
	if err != nil {
		writeError(w, req.proto, err)
		return
	}
	// No CloudWatch action the lab serves is authorized on anything but
	// "*" except the alarm writes, whose ARNs the log leaves out.
	awsapi.NoteCall(r.Context(), req.op, "")
	h, ok := operations[req.op]
	if !ok {
		code := "UnknownOperationException"
		if req.proto == protoQuery {
			code = "InvalidAction"
		}
		writeError(w, req.proto, awsapi.Errorf(http.StatusBadRequest, code, "Could not find operation %s for version %s", req.op, apiVersion))
		return
	}
	out, err := func() (out obj, err error) {
		// A decoder or handler bug must still answer in the protocol,
		// never drop the connection.
		defer func() {
			if p := recover(); p != nil {
				err = &awsapi.Error{Status: http.StatusInternalServerError, Code: "InternalServiceError", Message: fmt.Sprint(p), Receiver: true}
			}
		}()
		return h(s, awsapi.IdentityFrom(r.Context()), req)
	}()
	if err != nil {
		writeError(w, req.proto, err)
		return
	}
	writeOutput(w, req.proto, req.op, out)
}

type metricDatum struct {
	MetricName        *string
	Dimensions        []Dimension
	Timestamp         *flexTime
	Value             *flexFloat
	StatisticValues   *statisticSet
	Values            []flexFloat
	Counts            []flexFloat
	Unit              string
	StorageResolution *flexInt
}

type statisticSet struct {
	SampleCount, Sum, Minimum, Maximum *flexFloat
}

type putMetricDataInput struct {
	Namespace  *string
	MetricData []metricDatum
}

var standardUnits = map[string]bool{}

func init() {
	for _, u := range []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"} {
		standardUnits[u] = true
	}
}

// CloudWatch rejects values whose magnitude is outside [2^-260, 2^360].
var (
	maxValue = math.Pow(2, 360)
	minValue = math.Pow(2, -260)
)

func checkValue(v float64, param string) error {
	a := math.Abs(v)
	if math.IsNaN(v) || math.IsInf(v, 0) || a > maxValue || (a != 0 && a < minValue) {
		return errInvalidValue(formatFloat(v), param)
	}
	return nil
}

func checkNamespace(ns string, param string) error {
	if len(ns) > 255 || ns[0] == ':' {
		return errInvalidValue(ns, param)
	}
	return nil
}

func checkDims(dims []Dimension, param string) error {
	if len(dims) > 30 {
		return errInvalid("The collection %s must not have a size greater than 30.", param)
	}
	seen := map[string]bool{}
	for i, d := range dims {
		p := fmt.Sprintf("%s.member.%d", param, i+1)
		if d.Name == "" {
			return errMissing(p + ".Name")
		}
		if d.Value == "" {
			return errMissing(p + ".Value")
		}
		if len(d.Name) > 255 || len(d.Value) > 1024 {
			return errInvalidValue(d.Name, p+".Name")
		}
		if seen[d.Name] {
			return errInvalid("No metric may have duplicate dimension names: %s", d.Name)
		}
		seen[d.Name] = true
	}
	return nil
}

// validateDatum turns one MetricDatum into samples, or says what is wrong
// with it in the parameter names CloudWatch uses.
func validateDatum(d metricDatum, p string, now time.Time) (name string, dims []Dimension, samples []sample, err error) {
	if d.MetricName == nil || *d.MetricName == "" {
		return "", nil, nil, errMissing(p + ".MetricName")
	}
	if len(*d.MetricName) > 255 {
		return "", nil, nil, errInvalidValue(*d.MetricName, p+".MetricName")
	}
	if err := checkDims(d.Dimensions, p+".Dimensions"); err != nil {
		return "", nil, nil, err
	}
	if d.Unit != "" && !standardUnits[d.Unit] {
		return "", nil, nil, errInvalidValue(d.Unit, p+".Unit")
	}
	hires := false
	if d.StorageResolution != nil {
		switch *d.StorageResolution {
		case 1:
			hires = true
		case 60:
		default:
			return "", nil, nil, errInvalidValue(int64(*d.StorageResolution), p+".StorageResolution")
		}
	}
	ts := now
	if d.Timestamp != nil {
		ts = d.Timestamp.time()
		if ts.Before(now.Add(-14 * 24 * time.Hour)) {
			return "", nil, nil, errInvalid("The parameter %s.Timestamp must specify a time no more than two weeks in the past.", p)
		}
		if ts.After(now.Add(2 * time.Hour)) {
			return "", nil, nil, errInvalid("The parameter %s.Timestamp must specify a time no more than two hours in the future.", p)
		}
	}
	base := sample{T: ts.UnixMilli(), Recv: now.UnixMilli(), Unit: d.Unit, HighRes: hires}
	given := 0
	for _, present := range []bool{d.Value != nil, d.StatisticValues != nil, d.Values != nil} {
		if present {
			given++
		}
	}
	if given > 1 {
		return "", nil, nil, errCombination("The parameters %[1]s.Value, %[1]s.Values and %[1]s.StatisticValues are mutually exclusive and you have specified more than one of them.", p)
	}
	switch {
	case d.Value != nil:
		if err := checkValue(float64(*d.Value), p+".Value"); err != nil {
			return "", nil, nil, err
		}
		s := base
		s.Value, s.Count = float64(*d.Value), 1
		samples = append(samples, s)
	case d.StatisticValues != nil:
		sv := d.StatisticValues
		for _, f := range []struct {
			v    *flexFloat
			name string
		}{{sv.SampleCount, "SampleCount"}, {sv.Sum, "Sum"}, {sv.Minimum, "Minimum"}, {sv.Maximum, "Maximum"}} {
			if f.v == nil {
				return "", nil, nil, errMissing(p + ".StatisticValues." + f.name)
			}
			if err := checkValue(float64(*f.v), p+".StatisticValues."+f.name); err != nil {
				return "", nil, nil, err
			}
		}
		if *sv.SampleCount <= 0 || *sv.Minimum > *sv.Maximum {
			return "", nil, nil, errInvalidValue(formatFloat(float64(*sv.SampleCount)), p+".StatisticValues.SampleCount")
		}
		s := base
		s.Set, s.Count, s.Sum, s.Min, s.Max = true, float64(*sv.SampleCount), float64(*sv.Sum), float64(*sv.Minimum), float64(*sv.Maximum)
		samples = append(samples, s)
	case d.Values != nil:
		if len(d.Values) > 150 {
			return "", nil, nil, errInvalid("The collection %s.Values must not have a size greater than 150.", p)
		}
		if d.Counts != nil && len(d.Counts) != len(d.Values) {
			return "", nil, nil, errCombination("The parameters %[1]s.Values and %[1]s.Counts must be of the same size.", p)
		}
		for i, v := range d.Values {
			if err := checkValue(float64(v), fmt.Sprintf("%s.Values.member.%d", p, i+1)); err != nil {
				return "", nil, nil, err
			}
			c := 1.0
			if d.Counts != nil {
				c = float64(d.Counts[i])
				if c < 0 || math.IsNaN(c) || math.IsInf(c, 0) {
					return "", nil, nil, errInvalidValue(formatFloat(c), fmt.Sprintf("%s.Counts.member.%d", p, i+1))
				}
			}
			s := base
			s.Value, s.Count = float64(v), c
			samples = append(samples, s)
		}
	default:
		// CloudWatch stores a datum without a value as a zero.
		s := base
		s.Count = 1
		samples = append(samples, s)
	}
	return *d.MetricName, sortDims(d.Dimensions), samples, nil
}

type datumView struct {
	MetricName string      `json:"metric_name"`
	Dimensions []Dimension `json:"dimensions,omitempty"`
	Timestamp  time.Time   `json:"timestamp"`
	Samples    int         `json:"samples"`
}

func (s *Service) putMetricData(id awsapi.Identity, req request) (obj, error) {
	var in putMetricDataInput
	if err := decodeInput(req, &in); err != nil {
		return nil, err
	}
	if in.Namespace == nil || *in.Namespace == "" {
		return nil, errMissing("Namespace")
	}
	ns := *in.Namespace
	if err := checkNamespace(ns, "Namespace"); err != nil {
		return nil, err
	}
	if len(ns) >= 4 && ns[:4] == "AWS/" {
		return nil, errInvalid("The value AWS/ for parameter Namespace is invalid.")
	}
	if len(in.MetricData) > 1000 {
		return nil, errInvalid("The collection MetricData must not have a size greater than 1000.")
	}
	now := s.env.Clock.Now()
	type prepared struct {
		name    string
		dims    []Dimension
		samples []sample
	}
	var all []prepared
	var views []datumView
	for i, d := range in.MetricData {
		name, dims, samples, err := validateDatum(d, fmt.Sprintf("MetricData.member.%d", i+1), now)
		if err != nil {
			return nil, err
		}
		all = append(all, prepared{name, dims, samples})
		views = append(views, datumView{MetricName: name, Dimensions: dims, Timestamp: time.UnixMilli(samples[0].T).UTC(), Samples: len(samples)})
	}
	s.mu.Lock()
	a := s.acct(id.AccountID)
	for _, p := range all {
		for _, smp := range p.samples {
			s.store(a, ns, p.name, p.dims, smp)
		}
	}
	s.mu.Unlock()
	s.env.History.Record(id, "cloudwatch", "PutMetricData", "namespace/"+ns, nil, map[string]any{"namespace": ns, "metric_data": views})
	return obj{}, nil
}

// store adds one sample. Callers hold s.mu.
func (s *Service) store(a *account, ns, name string, dims []Dimension, smp sample) {
	key := metricKey(ns, name, dims)
	sr := a.Series[key]
	if sr == nil {
		sr = &series{Namespace: ns, Name: name, Dims: dims}
		a.Series[key] = sr
	}
	sr.insert(smp)
}

// Put records one value for a metric in an account, as the lab's data plane
// does for the AWS/ namespaces (edges publish request and error counts). It
// bypasses the API's namespace and timestamp-age rules because AWS itself
// publishes those metrics, and it records no history: it is not an API call.
func (s *Service) Put(account, namespace, metric string, dims map[string]string, t time.Time, value float64, unit string) error {
	if account == "" || namespace == "" || metric == "" {
		return fmt.Errorf("putting metric %q in %q: account, namespace and metric are required", metric, namespace)
	}
	if err := checkValue(value, "Value"); err != nil {
		return fmt.Errorf("putting metric %s/%s: %w", namespace, metric, err)
	}
	if unit != "" && !standardUnits[unit] {
		return fmt.Errorf("putting metric %s/%s: unknown unit %q", namespace, metric, unit)
	}
	now := s.env.Clock.Now()
	smp := sample{T: t.UnixMilli(), Recv: now.UnixMilli(), Value: value, Count: 1, Unit: unit}
	s.mu.Lock()
	s.store(s.acct(account), namespace, metric, dimsFromMap(dims), smp)
	s.mu.Unlock()
	return nil
}

// visibleAt is the clock reading a query uses to decide which samples have
// been ingested.
func (s *Service) visibleAt(now time.Time) time.Time { return now.Add(-s.opts.IngestDelay) }

// Query is one statistic of one metric over a time range, for the lab's
// data plane and gates.
type Query struct {
	Namespace  string
	MetricName string
	Dimensions map[string]string
	// Stat is Sum, Average, Minimum, Maximum, SampleCount or pNN(.NN).
	Stat string
	// Period is the bucket width: 1, 5, 10, 20, 30 s or a multiple of a
	// minute.
	Period time.Duration
	// Start is inclusive (rounded down like CloudWatch does), End exclusive.
	Start, End time.Time
	Unit       string
}

// Query returns the datapoints of q in account, oldest first. Empty
// periods are absent, as in CloudWatch.
func (s *Service) Query(account string, q Query) ([]time.Time, []float64, error) {
	period := int64(q.Period / time.Second)
	mq := metricDataQuery{
		Id: "q",
		MetricStat: &metricStat{
			Metric: &metric{Namespace: q.Namespace, MetricName: q.MetricName, Dimensions: dimsFromMap(q.Dimensions)},
			Period: (*flexInt)(&period),
			Stat:   q.Stat,
			Unit:   q.Unit,
		},
	}
	if q.Period%time.Second != 0 {
		return nil, nil, fmt.Errorf("querying %s/%s: period %s is not whole seconds", q.Namespace, q.MetricName, q.Period)
	}
	res, err := s.runQueries(account, []metricDataQuery{mq}, q.Start, q.End)
	if err != nil {
		return nil, nil, fmt.Errorf("querying %s/%s: %w", q.Namespace, q.MetricName, err)
	}
	r := res[0]
	ts := make([]time.Time, len(r.ts))
	for i, t := range r.ts {
		ts[i] = time.UnixMilli(t).UTC()
	}
	return ts, append([]float64(nil), r.vals...), nil
}

// sortedSeries returns the account's series in a stable order. Callers hold
// s.mu.
func sortedSeries(a *account) []*series {
	keys := make([]string, 0, len(a.Series))
	for k := range a.Series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*series, len(keys))
	for i, k := range keys {
		out[i] = a.Series[k]
	}
	return out
}
