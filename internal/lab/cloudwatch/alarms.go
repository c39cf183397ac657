package cloudwatch

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Alarm states.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// alarm is a stored metric alarm. Its state is re-evaluated from the stored
// data whenever it is read; the last result is kept so "ignore" missing
// data can hold it and transitions get a timestamp.
type alarm struct {
	AlarmName                        string            `json:"alarm_name"`
	AlarmArn                         string            `json:"alarm_arn"`
	AlarmDescription                 string            `json:"alarm_description,omitempty"`
	ActionsEnabled                   bool              `json:"actions_enabled"`
	OKActions                        []string          `json:"ok_actions,omitempty"`
	AlarmActions                     []string          `json:"alarm_actions,omitempty"`
	InsufficientDataActions          []string          `json:"insufficient_data_actions,omitempty"`
	MetricName                       string            `json:"metric_name,omitempty"`
	Namespace                        string            `json:"namespace,omitempty"`
	Statistic                        string            `json:"statistic,omitempty"`
	ExtendedStatistic                string            `json:"extended_statistic,omitempty"`
	Dimensions                       []Dimension       `json:"dimensions,omitempty"`
	Period                           int64             `json:"period,omitempty"`
	Unit                             string            `json:"unit,omitempty"`
	EvaluationPeriods                int64             `json:"evaluation_periods"`
	DatapointsToAlarm                int64             `json:"datapoints_to_alarm,omitempty"`
	Threshold                        float64           `json:"threshold"`
	ComparisonOperator               string            `json:"comparison_operator"`
	TreatMissingData                 string            `json:"treat_missing_data,omitempty"`
	EvaluateLowSampleCountPercentile string            `json:"evaluate_low_sample_count_percentile,omitempty"`
	Metrics                          []metricDataQuery `json:"metrics,omitempty"`
	ConfigUpdated                    time.Time         `json:"configuration_updated"`
	StateValue                       string            `json:"state_value"`
	StateReason                      string            `json:"state_reason"`
	StateUpdated                     time.Time         `json:"state_updated"`
	StateTransitioned                time.Time         `json:"state_transitioned"`
}

type putMetricAlarmInput struct {
	AlarmName                        *string
	AlarmDescription                 string
	ActionsEnabled                   *flexBool
	OKActions                        []string
	AlarmActions                     []string
	InsufficientDataActions          []string
	MetricName                       string
	Namespace                        string
	Statistic                        string
	ExtendedStatistic                string
	Dimensions                       []Dimension
	Period                           *flexInt
	Unit                             string
	EvaluationPeriods                *flexInt
	DatapointsToAlarm                *flexInt
	Threshold                        *flexFloat
	ComparisonOperator               string
	TreatMissingData                 string
	EvaluateLowSampleCountPercentile string
	Metrics                          []metricDataQuery
	ThresholdMetricId                string
}

var comparisons = map[string]string{
	"GreaterThanOrEqualToThreshold": "greater than or equal to",
	"GreaterThanThreshold":          "greater than",
	"LessThanThreshold":             "less than",
	"LessThanOrEqualToThreshold":    "less than or equal to",
}

func (a *alarm) breaches(v float64) bool {
	switch a.ComparisonOperator {
	case "GreaterThanOrEqualToThreshold":
		return v >= a.Threshold
	case "GreaterThanThreshold":
		return v > a.Threshold
	case "LessThanThreshold":
		return v < a.Threshold
	}
	return v <= a.Threshold
}

// AlarmConfig is a metric alarm as the lab's seed file declares it; it
// follows PutMetricAlarm for a single metric.
type AlarmConfig struct {
	Name               string
	Namespace          string
	MetricName         string
	Dimensions         map[string]string
	Statistic          string // Sum, Average, … or pNN(.NN)
	Period             time.Duration
	EvaluationPeriods  int
	DatapointsToAlarm  int // 0: EvaluationPeriods
	Threshold          float64
	ComparisonOperator string
	TreatMissingData   string // missing (default), breaching, notBreaching, ignore
}

// PutAlarm creates or replaces a metric alarm in account, with the same
// validation as PutMetricAlarm.
func (s *Service) PutAlarm(account string, c AlarmConfig) error {
	in := putMetricAlarmInput{
		AlarmName:          &c.Name,
		Namespace:          c.Namespace,
		MetricName:         c.MetricName,
		Dimensions:         dimsFromMap(c.Dimensions),
		Threshold:          (*flexFloat)(&c.Threshold),
		ComparisonOperator: c.ComparisonOperator,
		TreatMissingData:   c.TreatMissingData,
	}
	if strings.HasPrefix(c.Statistic, "p") {
		in.ExtendedStatistic = c.Statistic
	} else {
		in.Statistic = c.Statistic
	}
	period, evals, dta := flexInt(c.Period/time.Second), flexInt(c.EvaluationPeriods), flexInt(c.DatapointsToAlarm)
	in.Period, in.EvaluationPeriods = &period, &evals
	if dta != 0 {
		in.DatapointsToAlarm = &dta
	}
	id := awsapi.Identity{AccountID: account, ARN: "arn:aws:iam::" + account + ":root"}
	if _, err := s.storeAlarm(id, in, false); err != nil {
		return fmt.Errorf("putting alarm %q: %w", c.Name, err)
	}
	return nil
}

// AlarmState evaluates and returns the state of an alarm in account.
func (s *Service) AlarmState(account, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil || a.Alarms[name] == nil {
		return "", fmt.Errorf("alarm %q in account %s does not exist", name, account)
	}
	al := a.Alarms[name]
	s.evaluate(account, al, s.env.Clock.Now())
	return al.StateValue, nil
}

func (s *Service) putMetricAlarm(id awsapi.Identity, req request) (obj, error) {
	var in putMetricAlarmInput
	if err := decodeInput(req, &in); err != nil {
		return nil, err
	}
	_, err := s.storeAlarm(id, in, true)
	return obj{}, err
}

func validateAlarm(in putMetricAlarmInput) error {
	if in.AlarmName == nil || *in.AlarmName == "" {
		return errMissing("AlarmName")
	}
	if len(*in.AlarmName) > 255 {
		return errInvalidValue(*in.AlarmName, "AlarmName")
	}
	if in.EvaluationPeriods == nil {
		return errMissing("EvaluationPeriods")
	}
	if *in.EvaluationPeriods < 1 || *in.EvaluationPeriods > 10080 {
		return errInvalidValue(int64(*in.EvaluationPeriods), "EvaluationPeriods")
	}
	if in.ComparisonOperator == "" {
		return errMissing("ComparisonOperator")
	}
	if _, ok := comparisons[in.ComparisonOperator]; !ok {
		if strings.Contains(in.ComparisonOperator, "LowerOrGreaterThanUpper") || strings.Contains(in.ComparisonOperator, "UpperThreshold") || strings.Contains(in.ComparisonOperator, "LowerThreshold") {
			return errInvalid("Anomaly detection alarms (ComparisonOperator %s) are not supported by this emulator.", in.ComparisonOperator)
		}
		return errInvalidValue(in.ComparisonOperator, "ComparisonOperator")
	}
	if in.ThresholdMetricId != "" {
		return errInvalid("Anomaly detection alarms (ThresholdMetricId) are not supported by this emulator.")
	}
	if in.Threshold == nil {
		return errMissing("Threshold")
	}
	if in.DatapointsToAlarm != nil && (*in.DatapointsToAlarm < 1 || *in.DatapointsToAlarm > *in.EvaluationPeriods) {
		return errInvalid("DatapointsToAlarm must be between 1 and EvaluationPeriods (%d).", int64(*in.EvaluationPeriods))
	}
	switch in.TreatMissingData {
	case "", "missing", "breaching", "notBreaching", "ignore":
	default:
		return errInvalidValue(in.TreatMissingData, "TreatMissingData")
	}
	single := in.MetricName != "" || in.Namespace != "" || in.Statistic != "" || in.ExtendedStatistic != "" || len(in.Dimensions) > 0
	if len(in.Metrics) > 0 {
		if single || in.Period != nil {
			return errCombination("The parameters Metrics and MetricName, Namespace, Statistic, ExtendedStatistic, Dimensions, Period are mutually exclusive.")
		}
		returning := 0
		for _, q := range in.Metrics {
			if q.ReturnData == nil || bool(*q.ReturnData) {
				returning++
			}
		}
		if returning != 1 {
			return errInvalid("Exactly one element of the Metrics array must have ReturnData set to true.")
		}
		for i, q := range in.Metrics {
			if q.MetricStat != nil && q.MetricStat.Period != nil && int64(*q.MetricStat.Period)*int64(*in.EvaluationPeriods) > 7*24*3600 {
				return errInvalid("The product of EvaluationPeriods and Metrics.member.%d.MetricStat.Period must not exceed 604800 seconds.", i+1)
			}
		}
		return nil
	}
	switch {
	case in.MetricName == "":
		return errMissing("MetricName")
	case in.Namespace == "":
		return errMissing("Namespace")
	case in.Period == nil:
		return errMissing("Period")
	case in.Statistic != "" && in.ExtendedStatistic != "":
		return errCombination("The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.")
	case in.Statistic == "" && in.ExtendedStatistic == "":
		return errCombination("Exactly one of Statistic and ExtendedStatistic must be specified.")
	case in.Statistic != "" && !basicStats[in.Statistic]:
		return errInvalidValue(in.Statistic, "Statistic")
	case in.ExtendedStatistic != "" && !extendedStatRE.MatchString(in.ExtendedStatistic):
		return errInvalidValue(in.ExtendedStatistic, "ExtendedStatistic")
	case !validPeriod(int64(*in.Period)):
		return errInvalid("The parameter Period must be 10, 20, 30, or a multiple of 60.")
	case int64(*in.Period)*int64(*in.EvaluationPeriods) > 7*24*3600:
		return errInvalid("The product of EvaluationPeriods and Period must not exceed 604800 seconds.")
	case in.Unit != "" && !standardUnits[in.Unit]:
		return errInvalidValue(in.Unit, "Unit")
	}
	if err := checkNamespace(in.Namespace, "Namespace"); err != nil {
		return err
	}
	return checkDims(in.Dimensions, "Dimensions")
}

func (s *Service) storeAlarm(id awsapi.Identity, in putMetricAlarmInput, record bool) (*alarm, error) {
	if err := validateAlarm(in); err != nil {
		return nil, err
	}
	now := s.env.Clock.Now().UTC()
	al := &alarm{
		AlarmName:                        *in.AlarmName,
		AlarmArn:                         fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", s.opts.Region, id.AccountID, *in.AlarmName),
		AlarmDescription:                 in.AlarmDescription,
		ActionsEnabled:                   in.ActionsEnabled == nil || bool(*in.ActionsEnabled),
		OKActions:                        in.OKActions,
		AlarmActions:                     in.AlarmActions,
		InsufficientDataActions:          in.InsufficientDataActions,
		MetricName:                       in.MetricName,
		Namespace:                        in.Namespace,
		Statistic:                        in.Statistic,
		ExtendedStatistic:                in.ExtendedStatistic,
		Dimensions:                       in.Dimensions,
		Unit:                             in.Unit,
		EvaluationPeriods:                int64(*in.EvaluationPeriods),
		Threshold:                        float64(*in.Threshold),
		ComparisonOperator:               in.ComparisonOperator,
		TreatMissingData:                 in.TreatMissingData,
		EvaluateLowSampleCountPercentile: in.EvaluateLowSampleCountPercentile,
		Metrics:                          in.Metrics,
		ConfigUpdated:                    now,
		StateValue:                       StateInsufficientData,
		StateReason:                      "Unchecked: Initial alarm creation",
		StateUpdated:                     now,
		StateTransitioned:                now,
	}
	if in.Period != nil {
		al.Period = int64(*in.Period)
	}
	if in.DatapointsToAlarm != nil {
		al.DatapointsToAlarm = int64(*in.DatapointsToAlarm)
	}
	s.mu.Lock()
	if len(al.Metrics) > 0 {
		// Validate the metric math now, as CloudWatch does, by running it.
		if _, err := s.evalQueries(id.AccountID, al.Metrics, now.Add(-time.Hour), now, now); err != nil {
			s.mu.Unlock()
			return nil, err
		}
		al.Period = alarmMetricsPeriod(al.Metrics)
		if al.Period*al.EvaluationPeriods > 7*24*3600 {
			s.mu.Unlock()
			return nil, errInvalid("The product of EvaluationPeriods and the period of the alarm's metrics must not exceed 604800 seconds.")
		}
	}
	a := s.acct(id.AccountID)
	before := a.Alarms[al.AlarmName]
	var beforeView any
	if before != nil {
		// An update keeps the state until the next evaluation.
		al.StateValue, al.StateReason, al.StateUpdated, al.StateTransitioned = before.StateValue, before.StateReason, before.StateUpdated, before.StateTransitioned
		beforeView = *before
	}
	a.Alarms[al.AlarmName] = al
	after := *al
	s.mu.Unlock()
	if record {
		s.env.History.Record(id, "cloudwatch", "PutMetricAlarm", al.AlarmArn, beforeView, after)
	}
	return al, nil
}

// alarmMetricsPeriod is the period of a metric-math alarm: that of the
// returned query, else the longest MetricStat period.
func alarmMetricsPeriod(qs []metricDataQuery) int64 {
	var p int64
	for _, q := range qs {
		if q.ReturnData == nil || bool(*q.ReturnData) {
			if q.Period != nil {
				return int64(*q.Period)
			}
			if q.MetricStat != nil {
				return int64(*q.MetricStat.Period)
			}
		}
		if q.MetricStat != nil && q.MetricStat.Period != nil {
			p = max(p, int64(*q.MetricStat.Period))
		}
	}
	if p == 0 {
		p = 60
	}
	return p
}

// evaluate recomputes al's state at now from the last EvaluationPeriods
// complete periods. Callers hold s.mu.
func (s *Service) evaluate(account string, al *alarm, now time.Time) {
	p := al.Period * 1000
	end := floorDiv(now.UnixMilli(), p) * p
	start := end - al.EvaluationPeriods*p
	qs := al.Metrics
	if len(qs) == 0 {
		stat := al.Statistic
		if stat == "" {
			stat = al.ExtendedStatistic
		}
		period := flexInt(al.Period)
		qs = []metricDataQuery{{Id: "m", MetricStat: &metricStat{
			Metric: &metric{Namespace: al.Namespace, MetricName: al.MetricName, Dimensions: al.Dimensions},
			Period: &period, Stat: stat, Unit: al.Unit,
		}}}
	}
	results, err := s.evalQueries(account, qs, time.UnixMilli(start), time.UnixMilli(end), now)
	if err != nil {
		s.transition(al, StateInsufficientData, "Evaluation error: "+err.Error(), now)
		return
	}
	values := map[int64]float64{}
	for _, r := range results {
		if r.returnData && len(r.series) > 0 {
			for i, t := range r.series[0].t {
				values[t] = r.series[0].v[i]
			}
			break
		}
	}
	var breaching, present int64
	var shown []string
	for t := start; t < end; t += p {
		v, ok := values[t]
		switch {
		case ok:
			present++
			shown = append(shown, formatFloat(v))
			if al.breaches(v) {
				breaching++
			}
		case al.TreatMissingData == "breaching":
			breaching++
		}
	}
	m := al.DatapointsToAlarm
	if m == 0 {
		m = al.EvaluationPeriods
	}
	if present == 0 {
		switch al.TreatMissingData {
		case "ignore":
			return
		case "", "missing":
			s.transition(al, StateInsufficientData, fmt.Sprintf("Insufficient Data: %d datapoints were unknown.", al.EvaluationPeriods), now)
			return
		}
	}
	cmp := comparisons[al.ComparisonOperator]
	if breaching >= m {
		s.transition(al, StateAlarm, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] were %s the threshold (%s) (minimum %d datapoints for OK -> ALARM transition).",
			breaching, al.EvaluationPeriods, strings.Join(shown, ", "), cmp, formatFloat(al.Threshold), m), now)
		return
	}
	s.transition(al, StateOK, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] were not %s the threshold (%s) (minimum %d datapoints for ALARM -> OK transition).",
		al.EvaluationPeriods-breaching, al.EvaluationPeriods, strings.Join(shown, ", "), cmp, formatFloat(al.Threshold), m), now)
}

func (s *Service) transition(al *alarm, state, reason string, now time.Time) {
	if al.StateValue == state {
		return
	}
	al.StateValue, al.StateReason = state, reason
	al.StateUpdated, al.StateTransitioned = now.UTC(), now.UTC()
}

type describeAlarmsInput struct {
	AlarmNames      []string
	AlarmNamePrefix string
	AlarmTypes      []string
	StateValue      string
	ActionPrefix    string
	MaxRecords      *flexInt
	NextToken       string
}

func (s *Service) describeAlarms(id awsapi.Identity, req request) (obj, error) {
	var in describeAlarmsInput
	if err := decodeInput(req, &in); err != nil {
		return nil, err
	}
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != "" {
		return nil, errCombination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive.")
	}
	if len(in.AlarmNames) > 100 {
		return nil, errInvalid("The collection AlarmNames must not have a size greater than 100.")
	}
	switch in.StateValue {
	case "", StateOK, StateAlarm, StateInsufficientData:
	default:
		return nil, errInvalidValue(in.StateValue, "StateValue")
	}
	limit := int64(50)
	if in.MaxRecords != nil {
		if *in.MaxRecords < 1 || *in.MaxRecords > 100 {
			return nil, errInvalidValue(int64(*in.MaxRecords), "MaxRecords")
		}
		limit = int64(*in.MaxRecords)
	}
	wantMetric := len(in.AlarmTypes) == 0
	for i, t := range in.AlarmTypes {
		switch t {
		case "MetricAlarm":
			wantMetric = true
		case "CompositeAlarm":
		default:
			return nil, errInvalidValue(t, fmt.Sprintf("AlarmTypes.member.%d", i+1))
		}
	}
	offset := int64(0)
	if in.NextToken != "" {
		var ok bool
		if offset, ok = decodeToken("da", in.NextToken); !ok {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidNextToken", "The service couldn't process the NextToken.")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Clock.Now()
	var matched []*alarm
	if a := s.accounts[id.AccountID]; a != nil && wantMetric {
		names := make([]string, 0, len(a.Alarms))
		for n := range a.Alarms {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			al := a.Alarms[n]
			if len(in.AlarmNames) > 0 && !contains(in.AlarmNames, n) {
				continue
			}
			if !strings.HasPrefix(n, in.AlarmNamePrefix) {
				continue
			}
			if in.ActionPrefix != "" && !hasPrefixed(al.AlarmActions, in.ActionPrefix) && !hasPrefixed(al.OKActions, in.ActionPrefix) && !hasPrefixed(al.InsufficientDataActions, in.ActionPrefix) {
				continue
			}
			s.evaluate(id.AccountID, al, now)
			if in.StateValue != "" && al.StateValue != in.StateValue {
				continue
			}
			matched = append(matched, al)
		}
	}
	if offset > int64(len(matched)) {
		return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidNextToken", "The service couldn't process the NextToken.")
	}
	page := matched[offset:min(int64(len(matched)), offset+limit)]
	alarms := list{}
	for _, al := range page {
		alarms = append(alarms, al.view())
	}
	out := obj{}.with("CompositeAlarms", list{}).with("MetricAlarms", alarms)
	if next := offset + int64(len(page)); next < int64(len(matched)) {
		out = out.with("NextToken", encodeToken("da", next))
	}
	return out, nil
}

func hasPrefixed(xs []string, prefix string) bool {
	for _, x := range xs {
		if strings.HasPrefix(x, prefix) {
			return true
		}
	}
	return false
}

func strList(xs []string) list {
	out := list{}
	for _, x := range xs {
		out = append(out, x)
	}
	return out
}

func dimList(ds []Dimension) list {
	out := list{}
	for _, d := range ds {
		out = append(out, obj{}.with("Name", d.Name).with("Value", d.Value))
	}
	return out
}

func (al *alarm) view() obj {
	o := obj{}.with("AlarmName", al.AlarmName).with("AlarmArn", al.AlarmArn).
		withOpt("AlarmDescription", al.AlarmDescription).
		with("AlarmConfigurationUpdatedTimestamp", al.ConfigUpdated).
		with("ActionsEnabled", al.ActionsEnabled).
		with("OKActions", strList(al.OKActions)).
		with("AlarmActions", strList(al.AlarmActions)).
		with("InsufficientDataActions", strList(al.InsufficientDataActions)).
		with("StateValue", al.StateValue).
		with("StateReason", al.StateReason).
		with("StateUpdatedTimestamp", al.StateUpdated).
		withOpt("MetricName", al.MetricName).
		withOpt("Namespace", al.Namespace).
		withOpt("Statistic", al.Statistic).
		withOpt("ExtendedStatistic", al.ExtendedStatistic)
	if len(al.Metrics) == 0 {
		o = o.with("Dimensions", dimList(al.Dimensions))
	}
	if al.Period != 0 && len(al.Metrics) == 0 {
		o = o.with("Period", int(al.Period))
	}
	o = o.withOpt("Unit", al.Unit).
		with("EvaluationPeriods", int(al.EvaluationPeriods))
	if al.DatapointsToAlarm != 0 {
		o = o.with("DatapointsToAlarm", int(al.DatapointsToAlarm))
	}
	o = o.with("Threshold", al.Threshold).
		with("ComparisonOperator", al.ComparisonOperator).
		withOpt("TreatMissingData", al.TreatMissingData).
		withOpt("EvaluateLowSampleCountPercentile", al.EvaluateLowSampleCountPercentile)
	if len(al.Metrics) > 0 {
		ms := list{}
		for _, q := range al.Metrics {
			ms = append(ms, queryView(q))
		}
		o = o.with("Metrics", ms)
	}
	return o.with("StateTransitionedTimestamp", al.StateTransitioned)
}

func queryView(q metricDataQuery) obj {
	o := obj{}.with("Id", q.Id)
	if q.MetricStat != nil {
		ms := q.MetricStat
		m := obj{}.with("Namespace", ms.Metric.Namespace).with("MetricName", ms.Metric.MetricName).with("Dimensions", dimList(ms.Metric.Dimensions))
		st := obj{}.with("Metric", m).with("Period", int(*ms.Period)).with("Stat", ms.Stat).withOpt("Unit", ms.Unit)
		o = o.with("MetricStat", st)
	}
	o = o.withOpt("Expression", q.Expression).withOpt("Label", q.Label)
	o = o.with("ReturnData", q.ReturnData == nil || bool(*q.ReturnData))
	if q.Period != nil {
		o = o.with("Period", int(*q.Period))
	}
	return o.withOpt("AccountId", q.AccountId)
}

type deleteAlarmsInput struct {
	AlarmNames []string
}

func (s *Service) deleteAlarms(id awsapi.Identity, req request) (obj, error) {
	var in deleteAlarmsInput
	if err := decodeInput(req, &in); err != nil {
		return nil, err
	}
	if in.AlarmNames == nil {
		return nil, errMissing("AlarmNames")
	}
	if len(in.AlarmNames) > 100 {
		return nil, errInvalid("The collection AlarmNames must not have a size greater than 100.")
	}
	s.mu.Lock()
	a := s.acct(id.AccountID)
	var missing []string
	for _, n := range in.AlarmNames {
		if a.Alarms[n] == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		s.mu.Unlock()
		return nil, awsapi.Errorf(http.StatusNotFound, "ResourceNotFound", "Alarm(s) not found: %s", strings.Join(missing, ", "))
	}
	var deleted []alarm
	for _, n := range in.AlarmNames {
		if al := a.Alarms[n]; al != nil {
			deleted = append(deleted, *al)
			delete(a.Alarms, n)
		}
	}
	s.mu.Unlock()
	for _, al := range deleted {
		s.env.History.Record(id, "cloudwatch", "DeleteAlarms", al.AlarmArn, al, nil)
	}
	return obj{}, nil
}
