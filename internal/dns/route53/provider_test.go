package route53

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/dns"
)

// sleeps records backoff waits instead of sleeping.
type sleeps struct{ got []time.Duration }

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.got = append(s.got, d)
	return ctx.Err()
}

// testProvider wires p to f with instant backoff (always the ceiling, so
// delays are deterministic) and a limiter that never waits.
func testProvider(f *fakeAPI, opts Options) (*Provider, *sleeps) {
	s := &sleeps{}
	if opts.Sleep == nil {
		opts.Sleep = s.sleep
	}
	if opts.Rand == nil {
		opts.Rand = func() float64 { return 1 }
	}
	if opts.Limiter == nil {
		opts.Limiter = NewLimiter(1e9, 1<<30, fakeclock.New(time.Unix(0, 0)))
	}
	return newProvider(f, opts), s
}

func ptr[T any](v T) *T { return &v }

func TestApplyBatchIsDeleteExactThenCreateInOrder(t *testing.T) {
	f := newFake(t,
		sdkA("www.example.com.", 300, "192.0.2.1", "192.0.2.2"),
		sdkWeighted("api.example.com.", "A", "blue", 100, 60, "192.0.2.10"),
	)
	p, _ := testProvider(f, Options{})
	ctx := context.Background()
	www, err := p.Records(ctx, "/hostedzone/Z1", "WWW.example.com")
	if err != nil || len(www) != 1 {
		t.Fatalf("Records = %v, %v", www, err)
	}
	api, err := p.Records(ctx, "Z1", "api.example.com.")
	if err != nil || len(api) != 1 {
		t.Fatalf("Records = %v, %v", api, err)
	}
	alias := dns.RecordSet{Name: "www.example.com.", Type: "A",
		Alias: &dns.AliasTarget{ZoneID: AliasZoneForCloudFront, DNSName: "d111.cloudfront.net"}}
	green := dns.RecordSet{Name: "api.example.com", Type: "A", SetIdentifier: "green", Weight: ptr[int64](0), TTL: 60, Values: []string{"192.0.2.20"}}
	blueOff := api[0]
	blueOff.Weight = ptr[int64](0)

	id, err := p.Apply(ctx, dns.ChangeSet{Zone: "/hostedzone/Z1", Comment: "cutover run 7", Changes: []dns.Change{
		{Old: &www[0], New: &alias},
		{New: &green},
		{Old: &api[0], New: &blueOff},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if id != "C0001" {
		t.Errorf("change id = %q, want the bare id C0001", id)
	}
	if len(f.batches) != 1 {
		t.Fatalf("sent %d batches, want exactly one", len(f.batches))
	}
	b := f.batches[0]
	if aws.ToString(b.Comment) != "cutover run 7" {
		t.Errorf("comment = %q", aws.ToString(b.Comment))
	}
	var got []string
	for _, c := range b.Changes {
		rr := c.ResourceRecordSet
		got = append(got, string(c.Action)+" "+fromSDK(*rr).String())
	}
	want := []string{
		"DELETE www.example.com. 300 A 192.0.2.1 192.0.2.2",
		"CREATE www.example.com. A ALIAS d111.cloudfront.net. (Z2FDTNDATAQYW2)",
		"CREATE api.example.com. 60 A [set green weight 0] 192.0.2.20",
		"DELETE api.example.com. 60 A [set blue weight 100] 192.0.2.10",
		"CREATE api.example.com. 60 A [set blue weight 0] 192.0.2.10",
	}
	if !slices.Equal(got, want) {
		t.Errorf("batch =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// An alias must carry neither TTL nor values, or Route 53 rejects it.
	if rr := b.Changes[1].ResourceRecordSet; rr.TTL != nil || rr.ResourceRecords != nil {
		t.Errorf("alias CREATE carries TTL %v / values %v", rr.TTL, rr.ResourceRecords)
	}
	// The value set keeps the order it was read in.
	if v := b.Changes[0].ResourceRecordSet.ResourceRecords; aws.ToString(v[0].Value) != "192.0.2.1" {
		t.Errorf("DELETE values reordered: %v", v)
	}
	after, _ := p.Records(ctx, "Z1", "api.example.com")
	if len(after) != 2 {
		t.Errorf("after apply api has %v", after)
	}
}

func TestApplyRejectsEmptyInput(t *testing.T) {
	f := newFake(t)
	p, _ := testProvider(f, Options{})
	if _, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "Z1"}); !errors.Is(err, ErrEmptyChangeSet) {
		t.Errorf("empty set: %v", err)
	}
	if _, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{}}}); !errors.Is(err, ErrEmptyChange) {
		t.Errorf("empty change: %v", err)
	}
	if n := f.count("Change"); n != 0 {
		t.Errorf("sent %d batches for invalid input", n)
	}
}

func TestInSyncFollowsGetChange(t *testing.T) {
	f := newFake(t)
	p, _ := testProvider(f, Options{})
	ctx := context.Background()
	id, err := p.Apply(ctx, dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{New: &dns.RecordSet{Name: "a.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p.InSync(ctx, id); err != nil || ok {
		t.Fatalf("InSync while PENDING = %v, %v", ok, err)
	}
	f.status[id] = types.ChangeStatusInsync
	if ok, err := p.InSync(ctx, "/change/"+id); err != nil || !ok {
		t.Fatalf("InSync after INSYNC = %v, %v", ok, err)
	}
	if _, err := p.InSync(ctx, "C9999"); err == nil || !strings.Contains(err.Error(), "getting change C9999") {
		t.Fatalf("unknown change: %v", err)
	}
}

func TestConflictStaleDelete(t *testing.T) {
	f := newFake(t, sdkA("www.example.com.", 300, "192.0.2.1"))
	p, _ := testProvider(f, Options{})
	ctx := context.Background()
	read, _ := p.Records(ctx, "Z1", "www.example.com")
	// Someone edits the record between our read and our write.
	f.sets[0] = sdkA("www.example.com.", 60, "192.0.2.99")
	next := dns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.7"}}

	_, err := p.Apply(ctx, dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{Old: &read[0], New: &next}}})
	var ce *dns.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, dns.ErrConflict) {
		t.Fatalf("err = %v, want a *dns.ConflictError", err)
	}
	if ce.Zone != "Z1" || len(ce.Expected) != 1 || !ce.Expected[0].Equal(read[0]) {
		t.Errorf("expected = %v in %s, want the stale read %v", ce.Expected, ce.Zone, read[0])
	}
	if len(ce.Actual) != 1 || ce.Actual[0].TTL != 60 || ce.Actual[0].Values[0] != "192.0.2.99" {
		t.Errorf("actual = %v, want the edited record", ce.Actual)
	}
	var icb *types.InvalidChangeBatch
	if !errors.As(err, &icb) {
		t.Errorf("cause %v does not unwrap to InvalidChangeBatch", ce.Cause)
	}
	for _, want := range []string{"expected:", "192.0.2.1", "actual:", "192.0.2.99"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%s", want, err)
		}
	}
	if cur, _ := p.Records(ctx, "Z1", "www.example.com"); len(cur) != 1 || cur[0].Values[0] != "192.0.2.99" {
		t.Errorf("zone changed by a rejected batch: %v", cur)
	}
}

func TestConflictDeletedBehindOurBack(t *testing.T) {
	f := newFake(t, sdkA("www.example.com.", 300, "192.0.2.1"))
	p, _ := testProvider(f, Options{})
	ctx := context.Background()
	read, _ := p.Records(ctx, "Z1", "www.example.com")
	f.sets = nil
	_, err := p.Apply(ctx, dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{Old: &read[0]}}})
	var ce *dns.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a conflict", err)
	}
	if len(ce.Expected) != 1 || len(ce.Actual) != 0 {
		t.Errorf("expected %v actual %v", ce.Expected, ce.Actual)
	}
}

func TestConflictAlreadyExistsExpectsTheNews(t *testing.T) {
	f := newFake(t, sdkA("new.example.com.", 60, "192.0.2.5"))
	p, _ := testProvider(f, Options{})
	want := dns.RecordSet{Name: "new.example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.6"}}
	_, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{New: &want}}})
	var ce *dns.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a conflict", err)
	}
	if len(ce.Expected) != 1 || !ce.Expected[0].Equal(want) {
		t.Errorf("expected = %v, want the New", ce.Expected)
	}
	if len(ce.Actual) != 1 || ce.Actual[0].Values[0] != "192.0.2.5" {
		t.Errorf("actual = %v", ce.Actual)
	}
}

func TestConflictLegacyMessagesForm(t *testing.T) {
	f := newFake(t)
	f.inject["Change"] = []error{&types.InvalidChangeBatch{Messages: []string{
		"Tried to delete resource record set [name='x.example.com.', type='A'] but it was not found"}}}
	p, _ := testProvider(f, Options{})
	old := dns.RecordSet{Name: "x.example.com.", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}
	_, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{Old: &old}}})
	if !errors.Is(err, dns.ErrConflict) {
		t.Fatalf("err = %v, want a conflict from the <Messages> form", err)
	}
}

func TestOtherRejectionsAreNotConflicts(t *testing.T) {
	for _, injected := range []error{
		&types.InvalidChangeBatch{Message: aws.String("[RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com.]")},
		&types.InvalidInput{Message: aws.String("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none")},
		&types.NoSuchHostedZone{Message: aws.String("No hosted zone found with ID: Z1")},
	} {
		f := newFake(t)
		f.inject["Change"] = []error{injected}
		p, _ := testProvider(f, Options{})
		rs := dns.RecordSet{Name: "example.com.", Type: "CNAME", TTL: 60, Values: []string{"x.example.net."}}
		_, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "/hostedzone/Z1", Changes: []dns.Change{{New: &rs}}})
		if err == nil || errors.Is(err, dns.ErrConflict) {
			t.Errorf("%T: err = %v, want a plain error", injected, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "applying batch to zone Z1: ") || !errors.Is(err, injected) {
			t.Errorf("%T: err = %q, want it wrapped naming the zone", injected, err)
		}
		if n := f.count("Change"); n != 1 {
			t.Errorf("%T: sent %d times; a rejection retry cannot fix must not be retried", injected, n)
		}
	}
}

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "Rate exceeded", Fault: smithy.FaultClient}
}

func httpErr(status int) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      errors.New("upstream failed"),
	}
}

func TestRetryThrottlingBacksOffExponentially(t *testing.T) {
	f := newFake(t)
	f.inject["Change"] = []error{apiErr("Throttling"), apiErr("PriorRequestNotComplete"), apiErr("Throttling")}
	p, s := testProvider(f, Options{BaseDelay: 100 * time.Millisecond})
	rs := dns.RecordSet{Name: "a.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}
	if _, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{New: &rs}}}); err != nil {
		t.Fatal(err)
	}
	if n := f.count("Change"); n != 4 {
		t.Errorf("attempts = %d, want 4", n)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	if !slices.Equal(s.got, want) {
		t.Errorf("sleeps = %v, want %v", s.got, want)
	}
}

func TestRetryIsCappedAndBounded(t *testing.T) {
	f := newFake(t)
	for range 20 {
		f.inject["List"] = append(f.inject["List"], apiErr("Throttling"))
	}
	p, s := testProvider(f, Options{BaseDelay: time.Second, MaxDelay: 5 * time.Second, MaxAttempts: 6})
	_, err := p.Records(context.Background(), "Z1", "a.example.com")
	if err == nil {
		t.Fatal("no error after exhausting attempts")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "Throttling" || !strings.Contains(err.Error(), "zone Z1") {
		t.Errorf("err = %v, want the Throttling error wrapped naming the zone", err)
	}
	if n := f.count("List"); n != 6 {
		t.Errorf("attempts = %d, want MaxAttempts 6", n)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if !slices.Equal(s.got, want) {
		t.Errorf("sleeps = %v, want %v", s.got, want)
	}
}

func TestRetryJitterScalesTheCeiling(t *testing.T) {
	f := newFake(t)
	f.inject["List"] = []error{apiErr("Throttling"), apiErr("Throttling")}
	p, s := testProvider(f, Options{BaseDelay: time.Second, Rand: func() float64 { return 0.25 }})
	if _, err := p.Records(context.Background(), "Z1", "a.example.com"); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}
	if !slices.Equal(s.got, want) {
		t.Errorf("sleeps = %v, want %v", s.got, want)
	}
}

func TestDefaultAttemptsIsEight(t *testing.T) {
	f := newFake(t)
	for range 20 {
		f.inject["GetChange"] = append(f.inject["GetChange"], apiErr("Throttling"))
	}
	p, _ := testProvider(f, Options{})
	if _, err := p.InSync(context.Background(), "C1"); err == nil {
		t.Fatal("want an error")
	}
	if n := f.count("GetChange"); n != 8 {
		t.Errorf("attempts = %d, want 8", n)
	}
}

func TestServerErrorsRetryOnReadsOnly(t *testing.T) {
	f := newFake(t, sdkA("a.example.com.", 60, "192.0.2.1"))
	f.inject["List"] = []error{httpErr(503), &smithyhttp.RequestSendError{Err: errors.New("connection reset")}}
	p, _ := testProvider(f, Options{})
	rs, err := p.Records(context.Background(), "Z1", "a.example.com")
	if err != nil || len(rs) != 1 {
		t.Fatalf("Records = %v, %v", rs, err)
	}
	if n := f.count("List"); n != 3 {
		t.Errorf("list attempts = %d, want 3", n)
	}

	// A write that failed ambiguously may have been applied: never repeat it.
	f.inject["Change"] = []error{httpErr(500)}
	_, err = p.Apply(context.Background(), dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{Old: &rs[0]}}})
	if err == nil {
		t.Fatal("want the 500")
	}
	if n := f.count("Change"); n != 1 {
		t.Errorf("change attempts = %d, want 1", n)
	}
}

func TestRetryHonoursContext(t *testing.T) {
	f := newFake(t)
	for range 20 {
		f.inject["Change"] = append(f.inject["Change"], apiErr("Throttling"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	attempts := 0
	p, _ := testProvider(f, Options{Sleep: func(ctx context.Context, _ time.Duration) error {
		attempts++
		if attempts == 2 {
			cancel()
		}
		return ctx.Err()
	}})
	rs := dns.RecordSet{Name: "a.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}
	_, err := p.Apply(ctx, dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{New: &rs}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := f.count("Change"); n != 2 {
		t.Errorf("attempts = %d, want 2 (stopped by ctx)", n)
	}
}

func TestRecordsFollowsPaginationUntilNameChanges(t *testing.T) {
	f := newFake(t,
		sdkA("example.com.", 300, "192.0.2.100"),
		sdkA("a.example.com.", 300, "192.0.2.101"),
		sdkWeighted("www.example.com.", "A", "blue", 100, 60, "192.0.2.1"),
		sdkWeighted("www.example.com.", "A", "green", 0, 60, "192.0.2.2"),
		sdkWeighted("www.example.com.", "A", "red", 0, 60, "192.0.2.3"),
		types.ResourceRecordSet{Name: aws.String("www.example.com."), Type: types.RRTypeTxt, TTL: aws.Int64(60),
			ResourceRecords: []types.ResourceRecord{{Value: aws.String(`"v=1"`)}}},
		sdkA("a.www.example.com.", 300, "192.0.2.102"),
		sdkA("zzz.example.com.", 300, "192.0.2.103"),
	)
	f.pageSize = 2
	p, _ := testProvider(f, Options{})
	rs, err := p.Records(context.Background(), "Z1", "www.example.com")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.String())
	}
	want := []string{
		"www.example.com. 60 A [set blue weight 100] 192.0.2.1",
		"www.example.com. 60 A [set green weight 0] 192.0.2.2",
		"www.example.com. 60 A [set red weight 0] 192.0.2.3",
		`www.example.com. 60 TXT "v=1"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("records =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Pages: [blue green] [red TXT] then a.www: the second page's
	// NextRecordName already names another set, so no third call.
	if len(f.lists) != 2 {
		t.Fatalf("list calls = %d, want 2", len(f.lists))
	}
	second := f.lists[1]
	if aws.ToString(second.StartRecordName) != "www.example.com." || second.StartRecordType != types.RRTypeA ||
		aws.ToString(second.StartRecordIdentifier) != "red" {
		t.Errorf("second page started at %s %s %s, want the NextRecord* of the first",
			aws.ToString(second.StartRecordName), second.StartRecordType, aws.ToString(second.StartRecordIdentifier))
	}
}

func TestRecordsStopsWhenNextPageIsAnotherName(t *testing.T) {
	f := newFake(t, sdkA("www.example.com.", 60, "192.0.2.1"), sdkA("x.www.example.com.", 60, "192.0.2.2"))
	f.pageSize = 1
	p, _ := testProvider(f, Options{})
	rs, err := p.Records(context.Background(), "Z1", "www.example.com")
	if err != nil || len(rs) != 1 {
		t.Fatalf("Records = %v, %v", rs, err)
	}
	if len(f.lists) != 1 {
		t.Errorf("list calls = %d; a next page for another name must not be fetched", len(f.lists))
	}
}

func TestRecordsUnescapesWildcard(t *testing.T) {
	f := newFake(t, sdkA(`\052.Example.com.`, 60, "192.0.2.1"), sdkA("www.example.com.", 60, "192.0.2.2"))
	p, _ := testProvider(f, Options{})
	rs, err := p.Records(context.Background(), "Z1", "*.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Name != "*.example.com." {
		t.Fatalf("Records = %v, want the wildcard as *.example.com.", rs)
	}
}

func TestUnescapeName(t *testing.T) {
	for in, want := range map[string]string{
		`\052.example.com.`:  "*.example.com.",
		`a\100b.example.`:    "a@b.example.",
		`plain.example.com.`: "plain.example.com.",
		`trailing\05`:        `trailing\05`,
		`not\089octal`:       `not\089octal`,
	} {
		if got := unescapeName(in); got != want {
			t.Errorf("unescapeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRecordsErrorNamesZone(t *testing.T) {
	f := newFake(t)
	p, _ := testProvider(f, Options{})
	_, err := p.Records(context.Background(), "/hostedzone/ZNOPE", "www.example.com")
	var nz *types.NoSuchHostedZone
	if !errors.As(err, &nz) || !strings.Contains(err.Error(), "zone ZNOPE") {
		t.Fatalf("err = %v, want NoSuchHostedZone naming the zone", err)
	}
	if n := f.count("List"); n != 1 {
		t.Errorf("attempts = %d; a missing zone is not retried", n)
	}
}

func TestZoneName(t *testing.T) {
	f := newFake(t)
	f.zoneName = "Example.COM"
	p, _ := testProvider(f, Options{})
	name, err := p.ZoneName(context.Background(), "/hostedzone/Z1")
	if err != nil || name != "example.com." {
		t.Fatalf("ZoneName = %q, %v", name, err)
	}
}

func TestAliasZones(t *testing.T) {
	if id, ok := ALBZoneID("us-east-1"); !ok || id != "Z35SXDOTRQ7X7K" {
		t.Errorf("us-east-1 = %q %v", id, ok)
	}
	if id, ok := ALBZoneID("eu-central-1"); !ok || id != "Z215JYRZR1TBD5" {
		t.Errorf("eu-central-1 = %q %v", id, ok)
	}
	if _, ok := ALBZoneID("mars-north-1"); ok {
		t.Error("unknown region reported as known")
	}
}
