package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/awsconfig/mototest"
	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	labr53 "github.com/cutover/cutover/internal/lab/route53"
)

// peer is one implementation of the AWS APIs, reached through the real SDK
// clients exactly as cutover reaches AWS.
type peer struct {
	name string
	// settle lets emulated time pass: the lab's fake clock jumps past
	// every propagation and deployment delay. moto has no delays to wait
	// out, so for it settle does nothing.
	settle func()
	r53    *route53.Client
	cf     *cloudfront.Client
	acm    *acm.Client
	elb    *elb.Client
	sts    *sts.Client
	cw     *cloudwatch.Client
}

func newPeer(name, endpoint string, settle func()) *peer {
	cfg := awstest.Config(endpoint)
	return &peer{
		name:   name,
		settle: settle,
		r53:    route53.NewFromConfig(cfg),
		cf:     cloudfront.NewFromConfig(cfg),
		acm:    acm.NewFromConfig(cfg),
		elb:    elb.NewFromConfig(cfg),
		sts:    sts.NewFromConfig(cfg),
		cw:     cloudwatch.NewFromConfig(cfg),
	}
}

// observation is what one step of a scenario saw, as canonical JSON.
type observation struct {
	step  string
	value string
}

// run is one scenario executed against one peer. It owns the placeholders
// that stand for generated values: the n-th distinct zone id a peer hands
// out becomes "zone#n" on both sides, so equal ids stay equal and distinct
// ids stay distinct after normalisation.
type run struct {
	t     *testing.T
	ctx   context.Context
	p     *peer
	ids   map[string]string
	count map[string]int
	obs   []observation
	// mend is set for moto: after a named quirk of moto has been asserted
	// in its own step, later views undo it so that the steps which follow
	// still compare everything else.
	mend bool
	// changeIDs and statuses collect every Route 53 ChangeInfo seen.
	changeIDs, statuses []string
}

// exact runs f with mending off, for the step that asserts a quirk.
func (r *run) exact(f func()) {
	m := r.mend
	r.mend = false
	defer func() { r.mend = m }()
	f()
}

// id replaces a generated value by its placeholder of the given kind.
func (r *run) id(kind, raw string) string {
	if raw == "" {
		return ""
	}
	key := kind + "\x00" + raw
	if v, ok := r.ids[key]; ok {
		return v
	}
	r.count[kind]++
	v := fmt.Sprintf("%s#%d", kind, r.count[kind])
	r.ids[key] = v
	return v
}

// errView is how a refused call is compared: code, HTTP status, message.
type errView struct {
	Error   string `json:"error"`
	Status  int    `json:"status"`
	Message string `json:"message"`
}

func viewError(err error) errView {
	if errors.As(err, new(errAccepted)) {
		return errView{Error: "none: the call was accepted"}
	}
	v := errView{Error: "transport", Message: err.Error()}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		v.Error, v.Message = ae.ErrorCode(), ae.ErrorMessage()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		v.Status = re.HTTPStatusCode()
	}
	return v
}

// record notes what a step returned: view when err is nil, the error
// otherwise. It reports whether the call succeeded.
func (r *run) record(step string, view any, err error) bool {
	r.t.Helper()
	var v any = view
	if err != nil {
		v = viewError(err)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if merr := enc.Encode(v); merr != nil {
		r.t.Fatalf("%s: %s: encoding the observation: %v", r.p.name, step, merr)
	}
	r.obs = append(r.obs, observation{step, strings.TrimSuffix(b.String(), "\n")})
	return err == nil
}

// recordCode notes only the error code and status of a refusal, for
// refusals whose message text the AWS reference does not pin down.
func (r *run) recordCode(step string, view any, err error) bool {
	r.t.Helper()
	if err == nil {
		return r.record(step, view, nil)
	}
	v := viewError(err)
	return r.record(step, errView{Error: v.Error, Status: v.Status}, nil)
}

// need stops the scenario when a call that later steps depend on failed:
// nothing after it could be compared meaningfully.
func (r *run) need(step string, err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatalf("%s: %s: %v (every step after it depends on it)", r.p.name, step, err)
	}
}

// difference is a documented way in which moto departs from AWS. For the
// named step the lab must answer Lab (what AWS answers, per Ref) and moto
// must answer Moto; if moto ever starts agreeing with AWS, the entry is
// stale and the test says so.
type difference struct {
	Step string
	Ref  string // the section of the AWS behaviour reference
	Why  string
	Lab  string
	Moto string
}

// scenario drives one peer through a sequence of steps.
type scenario func(r *run)

// world is the pair of peers a test compares.
type world struct {
	motoURL string
}

// startMoto runs one moto_server for a whole test; scenarios reset it.
func startMoto(t *testing.T) *world {
	t.Helper()
	return &world{motoURL: mototest.Start(t)}
}

// newLab starts a lab with its default propagation and deployment delays
// on a fake clock. Told to apply changes at once, the lab would answer a
// write with INSYNC or Deployed, which AWS never does; with the delays kept,
// a write answers PENDING or InProgress and settle() jumps the clock past
// the delay, with no sleeping.
func newLab(t *testing.T) *peer {
	t.Helper()
	// The fake clock starts at the wall time: CloudWatch data is stamped by
	// the caller, and both peers must see it as recent.
	clock := fakeclock.New(time.Now().UTC())
	srv := httptest.NewServer(lab.New(lab.Options{Clock: clock, RateLimit: labr53.RateLimitOff, Seed: 1}))
	t.Cleanup(srv.Close)
	return newPeer("lab", srv.URL, func() { clock.Advance(time.Hour) })
}

// differ runs sc against a fresh lab and a freshly reset moto, then
// compares the two sets of observations step by step.
func (w *world) differ(t *testing.T, sc scenario, known []difference) {
	t.Helper()
	mototest.Reset(t, w.motoURL)
	exec := func(p *peer) []observation {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r := &run{t: t, ctx: ctx, p: p, ids: map[string]string{}, count: map[string]int{}, mend: p.name == "moto"}
		sc(r)
		return r.obs
	}
	labObs := exec(newLab(t))
	motoObs := exec(newPeer("moto", w.motoURL, func() {}))
	if testing.Verbose() {
		for _, o := range labObs {
			t.Logf("lab %s: %s", o.step, o.value)
		}
	}
	for _, p := range compare(labObs, motoObs, known) {
		t.Error(p)
	}
}

// compare returns every way the two runs disagree that the known
// differences do not account for, and every way a known difference no
// longer holds.
func compare(labObs, motoObs []observation, known []difference) []string {
	if len(labObs) != len(motoObs) {
		return []string{fmt.Sprintf("the scenario took different paths: lab recorded %d steps, moto %d", len(labObs), len(motoObs))}
	}
	byStep := map[string]difference{}
	for _, d := range known {
		byStep[d.Step] = d
	}
	var problems []string
	used := map[string]bool{}
	for i := range labObs {
		l, m := labObs[i], motoObs[i]
		if l.step != m.step {
			return append(problems, fmt.Sprintf("step %d: lab ran %q, moto ran %q", i, l.step, m.step))
		}
		d, isKnown := byStep[l.step]
		if !isKnown {
			if l.value != m.value {
				problems = append(problems, fmt.Sprintf("%s: lab and moto disagree\n lab:  %s\n moto: %s", l.step, l.value, m.value))
			}
			continue
		}
		used[l.step] = true
		if l.value != d.Lab {
			problems = append(problems, fmt.Sprintf("%s: the lab does not answer as AWS does (%s)\n got:  %s\n want: %s", l.step, d.Ref, l.value, d.Lab))
		}
		switch {
		case m.value == l.value:
			problems = append(problems, fmt.Sprintf("%s: moto now agrees with the lab; the known difference %q is stale", l.step, d.Why))
		case m.value != d.Moto:
			problems = append(problems, fmt.Sprintf("%s: moto no longer answers as documented (%s)\n got:  %s\n want: %s", l.step, d.Why, m.value, d.Moto))
		}
	}
	for _, d := range known {
		if !used[d.Step] {
			problems = append(problems, fmt.Sprintf("known difference %q names step %q, which the scenario never ran", d.Why, d.Step))
		}
	}
	return problems
}

// arn normalises an ARN's account and, when kind is set, the resource id
// after the last slash.
func (r *run) arn(raw, kind string) string {
	if r.mend && strings.HasPrefix(raw, "arn:aws:cloudfront:") && strings.Count(raw, ":") == 4 {
		// moto leaves out CloudFront's empty region field; asserted in
		// cf/arn.
		raw = strings.Replace(raw, "arn:aws:cloudfront:", "arn:aws:cloudfront::", 1)
	}
	parts := strings.SplitN(raw, ":", 6)
	if len(parts) != 6 {
		return r.id("arn", raw)
	}
	parts[4] = r.id("account", parts[4])
	if kind != "" {
		if i := strings.LastIndexByte(parts[5], '/'); i >= 0 {
			parts[5] = parts[5][:i+1] + r.id(kind, parts[5][i+1:])
		}
	}
	return strings.Join(parts, ":")
}

func str(p *string) string { return aws.ToString(p) }
