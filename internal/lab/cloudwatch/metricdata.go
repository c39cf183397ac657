package cloudwatch

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

type metric struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension
}

type metricStat struct {
	Metric *metric
	Period *flexInt
	Stat   string
	Unit   string
}

type metricDataQuery struct {
	Id         string
	MetricStat *metricStat
	Expression string
	Label      string
	ReturnData *flexBool
	Period     *flexInt
	AccountId  string
}

type getMetricDataInput struct {
	MetricDataQueries []metricDataQuery
	StartTime         *flexTime
	EndTime           *flexTime
	NextToken         string
	ScanBy            string
	MaxDatapoints     *flexInt
}

// queryResult is one evaluated query: its series (several when an
// expression yields an array), and whether the caller asked for it.
type queryResult struct {
	id, label  string
	returnData bool
	series     []ts
}

// single is the first series, for callers that asked for one metric.
type singleResult struct {
	ts   []int64
	vals []float64
}

var idRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

func errExpression(id, format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "ValidationError", "Error in expression %s: %s", id, fmt.Sprintf(format, args...))
}

// runQueries evaluates metric queries for account over [start, end).
func (s *Service) runQueries(account string, qs []metricDataQuery, start, end time.Time) ([]singleResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.evalQueries(account, qs, start, end, s.env.Clock.Now())
	if err != nil {
		return nil, err
	}
	out := make([]singleResult, len(res))
	for i, r := range res {
		if len(r.series) > 0 {
			out[i] = singleResult{ts: r.series[0].t, vals: r.series[0].v}
		}
	}
	return out, nil
}

func validateMetricStat(ms *metricStat, p string) error {
	if ms.Metric == nil {
		return errMissing(p + ".Metric")
	}
	if ms.Metric.Namespace == "" {
		return errMissing(p + ".Metric.Namespace")
	}
	if err := checkNamespace(ms.Metric.Namespace, p+".Metric.Namespace"); err != nil {
		return err
	}
	if ms.Metric.MetricName == "" {
		return errMissing(p + ".Metric.MetricName")
	}
	if err := checkDims(ms.Metric.Dimensions, p+".Metric.Dimensions"); err != nil {
		return err
	}
	if ms.Period == nil {
		return errMissing(p + ".Period")
	}
	if !validPeriod(int64(*ms.Period)) {
		return errInvalid("The parameter %s.Period must be 1, 5, 10, 20, 30, or a multiple of 60.", p)
	}
	if ms.Stat == "" {
		return errMissing(p + ".Stat")
	}
	if !validStat(ms.Stat) {
		return errInvalidValue(ms.Stat, p+".Stat")
	}
	if ms.Unit != "" && !standardUnits[ms.Unit] {
		return errInvalidValue(ms.Unit, p+".Unit")
	}
	return nil
}

// evalQueries validates and evaluates queries, expressions after the
// queries they read. Callers hold s.mu.
func (s *Service) evalQueries(account string, qs []metricDataQuery, start, end time.Time, now time.Time) ([]queryResult, error) {
	if len(qs) == 0 {
		return nil, errMissing("MetricDataQueries")
	}
	if len(qs) > 500 {
		return nil, errInvalid("The collection MetricDataQueries must not have a size greater than 500.")
	}
	if !start.Before(end) {
		return nil, errInvalid("The parameter StartTime must be less than the parameter EndTime.")
	}
	start = roundStart(start, now)
	visible := s.visibleAt(now)

	byID, parsed, defaultPeriod, err := parseQueries(qs)
	if err != nil {
		return nil, err
	}
	order, err := evalOrder(qs, parsed, byID)
	if err != nil {
		return nil, err
	}

	env := &exprEnv{results: map[string]exprValue{}}
	results := make([]queryResult, len(qs))
	for i, q := range qs {
		if q.MetricStat == nil {
			continue
		}
		series := s.metricSeries(account, q, start, end, visible)
		results[i] = queryResult{id: q.Id, label: series.label, series: []ts{series}}
		env.results[q.Id] = exprValue{kind: seriesKind, series: []ts{series}}
		env.metrics = append(env.metrics, series)
	}
	for _, i := range order {
		if parsed[i] == nil {
			continue
		}
		r, v, err := env.expression(qs[i], parsed[i], start, end, defaultPeriod)
		if err != nil {
			return nil, err
		}
		results[i] = r
		env.results[qs[i].Id] = v
	}
	for i, q := range qs {
		results[i].returnData = q.ReturnData == nil || bool(*q.ReturnData)
	}
	return results, nil
}

// parseQueries validates each query in request order, first failure wins,
// and parses the expressions. It returns the index of each query by id,
// the parsed expression of each expression query (nil for a MetricStat),
// and the period of expressions that set none: the longest MetricStat
// period, 60 s without one.
func parseQueries(qs []metricDataQuery) (byID map[string]int, parsed []exprNode, defaultPeriod int64, err error) {
	byID = map[string]int{}
	parsed = make([]exprNode, len(qs))
	for i, q := range qs {
		p := fmt.Sprintf("MetricDataQueries.member.%d", i+1)
		if q.Id == "" {
			return nil, nil, 0, errMissing(p + ".Id")
		}
		if len(q.Id) > 255 || !idRE.MatchString(q.Id) {
			return nil, nil, 0, errInvalid("The value %s for parameter %s.Id is invalid. Ids must start with a lowercase letter and contain only letters, numbers and underscores.", q.Id, p)
		}
		if _, dup := byID[q.Id]; dup {
			return nil, nil, 0, errInvalid("The value %s for parameter %s.Id is not unique.", q.Id, p)
		}
		byID[q.Id] = i
		switch {
		case q.MetricStat != nil && q.Expression != "":
			return nil, nil, 0, errCombination("The parameters %[1]s.MetricStat and %[1]s.Expression are mutually exclusive and you have specified both.", p)
		case q.MetricStat == nil && q.Expression == "":
			return nil, nil, 0, errCombination("Exactly one of %[1]s.MetricStat and %[1]s.Expression must be specified.", p)
		case q.MetricStat != nil:
			if err := validateMetricStat(q.MetricStat, p+".MetricStat"); err != nil {
				return nil, nil, 0, err
			}
			if per := int64(*q.MetricStat.Period); per > defaultPeriod {
				defaultPeriod = per
			}
		default:
			if len(q.Expression) > 2048 {
				return nil, nil, 0, errInvalidValue("(expression)", p+".Expression")
			}
			n, err := parseExpr(q.Expression)
			if err != nil {
				return nil, nil, 0, errExpression(q.Id, "%v", err)
			}
			parsed[i] = n
		}
		if q.Period != nil && !validPeriod(int64(*q.Period)) {
			return nil, nil, 0, errInvalid("The parameter %s.Period must be 1, 5, 10, 20, 30, or a multiple of 60.", p)
		}
	}
	if defaultPeriod == 0 {
		defaultPeriod = 60
	}
	return byID, parsed, defaultPeriod, nil
}

// evalOrder is the order of evaluation: every MetricStat first, then
// expressions by dependency (an expression after the ids it reads).
func evalOrder(qs []metricDataQuery, parsed []exprNode, byID map[string]int) ([]int, error) {
	order := make([]int, 0, len(qs))
	state := make([]int, len(qs)) // 0 new, 1 visiting, 2 done
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return errExpression(qs[i].Id, "circular reference")
		case 2:
			return nil
		}
		state[i] = 1
		if parsed[i] != nil {
			deps := map[string]bool{}
			refs(parsed[i], deps)
			names := make([]string, 0, len(deps))
			for d := range deps {
				names = append(names, d)
			}
			sort.Strings(names)
			for _, d := range names {
				j, ok := byID[d]
				if !ok {
					return errExpression(qs[i].Id, "unknown metric or expression id %s", d)
				}
				if err := visit(j); err != nil {
					return err
				}
			}
		}
		state[i] = 2
		order = append(order, i)
		return nil
	}
	for i := range qs {
		if qs[i].MetricStat != nil {
			if err := visit(i); err != nil {
				return nil, err
			}
		}
	}
	for i := range qs {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// metricSeries is the series of one MetricStat query: the statistic of each
// period of [start, end) of the metric, as visible at visible, in the
// query's account (account unless it names another).
func (s *Service) metricSeries(account string, q metricDataQuery, start, end, visible time.Time) ts {
	ms := q.MetricStat
	label := q.Label
	if label == "" {
		label = ms.Metric.MetricName
	}
	owner := account
	if q.AccountId != "" {
		owner = q.AccountId
	}
	series := ts{label: label}
	if a := s.accounts[owner]; a != nil {
		if sr := a.Series[metricKey(ms.Metric.Namespace, ms.Metric.MetricName, sortDims(ms.Metric.Dimensions))]; sr != nil {
			for _, b := range sr.aggregate(start, end, int64(*ms.Period), ms.Unit, visible) {
				if v, ok := b.value(ms.Stat); ok {
					series.t = append(series.t, b.start)
					series.v = append(series.v, v)
				}
			}
		}
	}
	return series
}

// expression evaluates one expression query on the results so far.
func (env *exprEnv) expression(q metricDataQuery, n exprNode, start, end time.Time, defaultPeriod int64) (queryResult, exprValue, error) {
	period := defaultPeriod
	if q.Period != nil {
		period = int64(*q.Period)
	}
	env.grid = grid(start, end, period)
	v, err := env.eval(n)
	if err != nil {
		return queryResult{}, exprValue{}, errExpression(q.Id, "%v", err)
	}
	label := q.Label
	if label == "" {
		label = q.Id
	}
	r := queryResult{id: q.Id, label: label}
	switch v.kind {
	case scalarKind:
		r.series = []ts{fill(ts{label: label}, env.grid, v.scalar)}
	case seriesKind:
		sr := v.series[0]
		sr.label = label
		r.series = []ts{sr}
	default:
		r.series = v.series
		if len(r.series) == 1 && q.Label != "" {
			r.series[0].label = q.Label
		}
	}
	return r, v, nil
}

// grid lists the bucket starts of [start, end) for period seconds.
func grid(start, end time.Time, period int64) []int64 {
	pms := period * 1000
	var out []int64
	for t := floorDiv(start.UnixMilli(), pms) * pms; t < end.UnixMilli() && len(out) < 100800; t += pms {
		out = append(out, t)
	}
	return out
}

func (s *Service) getMetricData(id awsapi.Identity, req request) (obj, error) {
	var in getMetricDataInput
	if err := decodeInput(req, &in); err != nil {
		return nil, err
	}
	if in.MetricDataQueries == nil {
		return nil, errMissing("MetricDataQueries")
	}
	if in.StartTime == nil {
		return nil, errMissing("StartTime")
	}
	if in.EndTime == nil {
		return nil, errMissing("EndTime")
	}
	maxPoints := int64(100800)
	if in.MaxDatapoints != nil {
		if *in.MaxDatapoints <= 0 {
			return nil, errInvalidValue(int64(*in.MaxDatapoints), "MaxDatapoints")
		}
		maxPoints = int64(*in.MaxDatapoints)
	}
	descending := true
	switch in.ScanBy {
	case "", "TimestampDescending":
	case "TimestampAscending":
		descending = false
	default:
		return nil, errInvalidValue(in.ScanBy, "ScanBy")
	}
	offset := int64(0)
	if in.NextToken != "" {
		var ok bool
		if offset, ok = decodeToken("gmd", in.NextToken); !ok {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidNextToken", "The service couldn't process the NextToken.")
		}
	}
	s.mu.Lock()
	results, err := s.evalQueries(id.AccountID, in.MetricDataQueries, in.StartTime.time(), in.EndTime.time(), s.env.Clock.Now())
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var total int64
	for _, r := range results {
		if r.returnData {
			for _, sr := range r.series {
				total += int64(len(sr.t))
			}
		}
	}
	if in.NextToken != "" && offset >= total {
		return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidNextToken", "The service couldn't process the NextToken.")
	}
	var out list
	pos := int64(0)
	pageEnd := offset + maxPoints
	for _, r := range results {
		if !r.returnData {
			continue
		}
		for _, sr := range r.series {
			n := int64(len(sr.t))
			lo, hi := clamp(offset-pos, 0, n), clamp(pageEnd-pos, 0, n)
			pos += n
			times, vals := list{}, list{}
			for k := lo; k < hi; k++ {
				idx := k
				if descending {
					idx = n - 1 - k
				}
				times = append(times, time.UnixMilli(sr.t[idx]).UTC())
				vals = append(vals, sr.v[idx])
			}
			status := "Complete"
			if hi < n {
				status = "PartialData"
			}
			out = append(out, obj{}.with("Id", r.id).with("Label", sr.label).
				with("Timestamps", times).with("Values", vals).with("StatusCode", status).
				with("Messages", list{}))
		}
	}
	res := obj{}.with("MetricDataResults", out)
	if pageEnd < total {
		res = res.with("NextToken", encodeToken("gmd", pageEnd))
	}
	return res.with("Messages", list{}), nil
}

func clamp(v, lo, hi int64) int64 {
	return max(lo, min(v, hi))
}

func encodeToken(kind string, offset int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(offset, 10)))
}

func decodeToken(kind, tok string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), kind+":")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

type getMetricStatisticsInput struct {
	Namespace          *string
	MetricName         *string
	Dimensions         []Dimension
	StartTime          *flexTime
	EndTime            *flexTime
	Period             *flexInt
	Statistics         []string
	ExtendedStatistics []string
	Unit               string
}

var basicStats = map[string]bool{"SampleCount": true, "Average": true, "Sum": true, "Minimum": true, "Maximum": true}

var extendedStatRE = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)$`)

func (s *Service) getMetricStatistics(id awsapi.Identity, req request) (obj, error) {
	var in getMetricStatisticsInput
	if err := decodeInput(req, &in); err != nil {
		return nil, err
	}
	switch {
	case in.Namespace == nil || *in.Namespace == "":
		return nil, errMissing("Namespace")
	case in.MetricName == nil || *in.MetricName == "":
		return nil, errMissing("MetricName")
	case in.StartTime == nil:
		return nil, errMissing("StartTime")
	case in.EndTime == nil:
		return nil, errMissing("EndTime")
	case in.Period == nil:
		return nil, errMissing("Period")
	}
	if err := checkNamespace(*in.Namespace, "Namespace"); err != nil {
		return nil, err
	}
	if err := checkDims(in.Dimensions, "Dimensions"); err != nil {
		return nil, err
	}
	period := int64(*in.Period)
	if !validPeriod(period) {
		return nil, errInvalid("The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.")
	}
	if len(in.Statistics) > 0 && len(in.ExtendedStatistics) > 0 {
		return nil, errCombination("The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.")
	}
	if len(in.Statistics) == 0 && len(in.ExtendedStatistics) == 0 {
		return nil, errCombination("Must specify either Statistics or ExtendedStatistics.")
	}
	if len(in.Statistics) > 5 {
		return nil, errInvalid("The collection Statistics must not have a size greater than 5.")
	}
	if len(in.ExtendedStatistics) > 10 {
		return nil, errInvalid("The collection ExtendedStatistics must not have a size greater than 10.")
	}
	for i, st := range in.Statistics {
		if !basicStats[st] {
			return nil, errInvalidValue(st, fmt.Sprintf("Statistics.member.%d", i+1))
		}
	}
	for i, st := range in.ExtendedStatistics {
		if !extendedStatRE.MatchString(st) {
			return nil, errInvalidValue(st, fmt.Sprintf("ExtendedStatistics.member.%d", i+1))
		}
	}
	if in.Unit != "" && !standardUnits[in.Unit] {
		return nil, errInvalidValue(in.Unit, "Unit")
	}
	start, end := in.StartTime.time(), in.EndTime.time()
	if !start.Before(end) {
		return nil, errInvalid("The parameter StartTime must be less than the parameter EndTime.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Clock.Now()
	start = roundStart(start, now)
	if n := (end.Sub(start).Milliseconds() + period*1000 - 1) / (period * 1000); n > 1440 {
		return nil, errCombination("You have requested up to %d datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", n)
	}
	points := list{}
	if a := s.accounts[id.AccountID]; a != nil {
		if sr := a.Series[metricKey(*in.Namespace, *in.MetricName, sortDims(in.Dimensions))]; sr != nil {
			for _, b := range sr.aggregate(start, end, period, in.Unit, s.visibleAt(now)) {
				dp := obj{}.with("Timestamp", time.UnixMilli(b.start).UTC())
				for _, st := range []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"} {
					if contains(in.Statistics, st) {
						v, _ := b.value(st)
						dp = dp.with(st, v)
					}
				}
				unit := b.unit
				if unit == "" {
					unit = "None"
				}
				dp = dp.with("Unit", unit)
				if len(in.ExtendedStatistics) > 0 {
					ext := floatMap{}
					for _, st := range in.ExtendedStatistics {
						if v, ok := b.value(st); ok {
							ext = append(ext, field{st, v})
						}
					}
					dp = dp.with("ExtendedStatistics", ext)
				}
				points = append(points, dp)
			}
		}
	}
	return obj{}.with("Label", *in.MetricName).with("Datapoints", points), nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

type dimensionFilter struct {
	Name  string
	Value *string
}

type listMetricsInput struct {
	Namespace             string
	MetricName            string
	Dimensions            []dimensionFilter
	NextToken             string
	RecentlyActive        string
	IncludeLinkedAccounts *flexBool
	OwningAccount         string
}

const listMetricsPage = 500

func (s *Service) listMetrics(id awsapi.Identity, req request) (obj, error) {
	var in listMetricsInput
	if err := decodeInput(req, &in); err != nil {
		return nil, err
	}
	if len(in.Dimensions) > 10 {
		return nil, errInvalid("The collection Dimensions must not have a size greater than 10.")
	}
	for i, d := range in.Dimensions {
		if d.Name == "" {
			return nil, errMissing(fmt.Sprintf("Dimensions.member.%d.Name", i+1))
		}
	}
	if in.RecentlyActive != "" && in.RecentlyActive != "PT3H" {
		return nil, errInvalidValue(in.RecentlyActive, "RecentlyActive")
	}
	offset := int64(0)
	if in.NextToken != "" {
		var ok bool
		if offset, ok = decodeToken("lm", in.NextToken); !ok {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidNextToken", "The service couldn't process the NextToken.")
		}
	}
	owner := id.AccountID
	if in.OwningAccount != "" {
		owner = in.OwningAccount
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Clock.Now()
	var matched []*series
	if a := s.accounts[owner]; a != nil {
		for _, sr := range sortedSeries(a) {
			if (in.Namespace != "" && sr.Namespace != in.Namespace) || (in.MetricName != "" && sr.Name != in.MetricName) {
				continue
			}
			if !matchDims(sr.Dims, in.Dimensions) {
				continue
			}
			if in.RecentlyActive != "" && (len(sr.Samples) == 0 || latestRecv(sr) < now.Add(-3*time.Hour).UnixMilli()) {
				continue
			}
			matched = append(matched, sr)
		}
	}
	if offset > int64(len(matched)) {
		return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidNextToken", "The service couldn't process the NextToken.")
	}
	page := matched[offset:min(int64(len(matched)), offset+listMetricsPage)]
	metrics, owners := list{}, list{}
	for _, sr := range page {
		dims := list{}
		for _, d := range sr.Dims {
			dims = append(dims, obj{}.with("Name", d.Name).with("Value", d.Value))
		}
		metrics = append(metrics, obj{}.with("Namespace", sr.Namespace).with("MetricName", sr.Name).with("Dimensions", dims))
		owners = append(owners, owner)
	}
	out := obj{}.with("Metrics", metrics)
	if in.IncludeLinkedAccounts != nil && bool(*in.IncludeLinkedAccounts) {
		out = out.with("OwningAccounts", owners)
	}
	if next := offset + int64(len(page)); next < int64(len(matched)) {
		out = out.with("NextToken", encodeToken("lm", next))
	}
	return out, nil
}

func latestRecv(sr *series) int64 {
	var m int64
	for _, smp := range sr.Samples {
		m = max(m, smp.Recv)
	}
	return m
}

func matchDims(have []Dimension, filters []dimensionFilter) bool {
	for _, f := range filters {
		found := false
		for _, d := range have {
			if d.Name == f.Name && (f.Value == nil || *f.Value == d.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
