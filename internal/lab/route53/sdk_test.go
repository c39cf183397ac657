package route53_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/acm"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/route53"
)

var start = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// lab is one emulator behind an HTTP server, with a counter of requests per
// operation path.
type lab struct {
	svc   *route53.Service
	clock *fakeclock.Clock
	url   string
	lists atomic.Int64 // ListResourceRecordSets requests seen
}

func newLab(t *testing.T, opts route53.Options) *lab {
	t.Helper()
	if opts.RateLimit == "" {
		opts.RateLimit = route53.RateLimitOff
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	l := &lab{clock: fakeclock.New(start)}
	l.svc = route53.New(awsapi.NewEnv(l.clock), opts)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/rrset") {
			l.lists.Add(1)
		}
		l.svc.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	l.url = srv.URL
	return l
}

func (l *lab) client() *r53.Client { return r53.NewFromConfig(awstest.Config(l.url)) }

// apiErr asserts err is a smithy API error with code and, when not empty,
// a message containing msg.
func apiErr(t *testing.T, err error, code, msg string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("got %s: %s\nwant %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
	return ae
}

func rrs(name string, typ types.RRType, ttl int64, values ...string) *types.ResourceRecordSet {
	rs := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func change(action types.ChangeAction, rs *types.ResourceRecordSet) types.Change {
	return types.Change{Action: action, ResourceRecordSet: rs}
}

func batch(changes ...types.Change) *types.ChangeBatch { return &types.ChangeBatch{Changes: changes} }

func createZone(t *testing.T, c *r53.Client, name string) string {
	t.Helper()
	out, err := c.CreateHostedZone(context.Background(), &r53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String("ref-" + name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.HostedZone.Id)
}

func TestSDKHostedZones(t *testing.T) {
	l := newLab(t, route53.Options{})
	c, ctx := l.client(), context.Background()

	out, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{
		Name: aws.String("Example.COM"), CallerReference: aws.String("r1"),
		HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("lab")},
	})
	if err != nil {
		t.Fatal(err)
	}
	zid := aws.ToString(out.HostedZone.Id)
	if !strings.HasPrefix(zid, "/hostedzone/Z") || aws.ToString(out.HostedZone.Name) != "example.com." ||
		len(out.DelegationSet.NameServers) != 4 || out.ChangeInfo.Status != types.ChangeStatusPending ||
		!strings.HasPrefix(aws.ToString(out.ChangeInfo.Id), "/change/C") || aws.ToString(out.Location) == "" {
		t.Fatalf("CreateHostedZone = %+v", out)
	}
	_, err = c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("r1")})
	var exists *types.HostedZoneAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("reused CallerReference: %v", err)
	}

	// Default records: SOA TTL 900 and four NS with TTL 172800.
	list, err := c.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zid)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.ResourceRecordSets) != 2 {
		t.Fatalf("new zone has %d sets", len(list.ResourceRecordSets))
	}
	ns, soa := list.ResourceRecordSets[0], list.ResourceRecordSets[1]
	if ns.Type != types.RRTypeNs || aws.ToInt64(ns.TTL) != 172800 || len(ns.ResourceRecords) != 4 ||
		soa.Type != types.RRTypeSoa || aws.ToInt64(soa.TTL) != 900 ||
		!strings.HasSuffix(aws.ToString(soa.ResourceRecords[0].Value), " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400") {
		t.Fatalf("default records %+v %+v", ns, soa)
	}

	get, err := c.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(strings.TrimPrefix(zid, "/hostedzone/"))})
	if err != nil || aws.ToString(get.HostedZone.Config.Comment) != "lab" || len(get.DelegationSet.NameServers) != 4 {
		t.Fatalf("GetHostedZone = %+v, %v", get, err)
	}
	_, err = c.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String("ZNOPE")})
	var nsz *types.NoSuchHostedZone
	if !errors.As(err, &nsz) || !strings.Contains(err.Error(), "No hosted zone found with ID: ZNOPE") {
		t.Fatalf("unknown zone: %v", err)
	}

	// Private zone with a VPC.
	priv, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("internal.example"), CallerReference: aws.String("r2"),
		VPC: &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionUsEast1}})
	if err != nil || !priv.HostedZone.Config.PrivateZone {
		t.Fatalf("private zone: %+v %v", priv, err)
	}

	// ListHostedZones pages through Marker; ByName sorts by reversed labels.
	for _, n := range []string{"b.example", "a.example", "www.a.example"} {
		createZone(t, c, n)
	}
	var all []string
	var pages int
	p := r53.NewListHostedZonesPaginator(c, &r53.ListHostedZonesInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, z := range page.HostedZones {
			all = append(all, aws.ToString(z.Name))
		}
	}
	if pages != 3 || strings.Join(all, " ") != "example.com. internal.example. b.example. a.example. www.a.example." {
		t.Fatalf("ListHostedZones: %d pages %v", pages, all)
	}
	byName, err := c.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{MaxItems: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, z := range byName.HostedZones {
		got = append(got, aws.ToString(z.Name))
	}
	if strings.Join(got, " ") != "example.com. a.example. www.a.example." || !byName.IsTruncated || aws.ToString(byName.NextDNSName) != "b.example." {
		t.Fatalf("ListHostedZonesByName = %v next %s", got, aws.ToString(byName.NextDNSName))
	}
	next, err := c.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{DNSName: byName.NextDNSName, HostedZoneId: byName.NextHostedZoneId})
	if err != nil || len(next.HostedZones) != 2 || aws.ToString(next.HostedZones[0].Name) != "b.example." {
		t.Fatalf("second ByName page: %+v %v", next, err)
	}

	// DeleteHostedZone refuses a zone with records of its own.
	_, err = c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zid),
		ChangeBatch: batch(change(types.ChangeActionCreate, rrs("www.example.com", types.RRTypeA, 60, "192.0.2.1")))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(zid)})
	var notEmpty *types.HostedZoneNotEmpty
	if !errors.As(err, &notEmpty) {
		t.Fatalf("DeleteHostedZone with records: %v", err)
	}
	_, err = c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zid),
		ChangeBatch: batch(change(types.ChangeActionDelete, rrs("www.example.com", types.RRTypeA, 60, "192.0.2.1")))})
	if err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(zid)})
	if err != nil || del.ChangeInfo.Status != types.ChangeStatusPending {
		t.Fatalf("DeleteHostedZone: %+v %v", del, err)
	}

	// Another account cannot see the zone.
	other := r53.NewFromConfig(awstest.ConfigAs(l.url, awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, ""))
	_, err = other.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: priv.HostedZone.Id})
	apiErr(t, err, "AccessDenied", "is not authorized to access this resource")
	lz, err := other.ListHostedZones(ctx, &r53.ListHostedZonesInput{})
	if err != nil || len(lz.HostedZones) != 0 {
		t.Fatalf("other account lists %d zones (%v)", len(lz.HostedZones), err)
	}
}

// TestSDKChangeBatch drives the compare-and-swap the product relies on.
func TestSDKChangeBatch(t *testing.T) {
	l := newLab(t, route53.Options{Propagation: 30 * time.Second})
	c, ctx := l.client(), context.Background()
	zid := createZone(t, c, "example.com")
	apply := func(changes ...types.Change) (*r53.ChangeResourceRecordSetsOutput, error) {
		return c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zid), ChangeBatch: batch(changes...)})
	}
	cname := rrs("www.example.com", types.RRTypeCname, 300, "d111.cloudfront.net")
	if _, err := apply(change(types.ChangeActionCreate, cname)); err != nil {
		t.Fatal(err)
	}

	// Duplicate CREATE: the typed error carries the bracketed message.
	_, err := apply(change(types.ChangeActionCreate, cname))
	var icb *types.InvalidChangeBatch
	if !errors.As(err, &icb) || !strings.Contains(icb.ErrorMessage(), "[Tried to create resource record set [name='www.example.com.', type='CNAME'] but it already exists]") {
		t.Fatalf("duplicate CREATE: %v", err)
	}
	// A DELETE that no longer matches (someone changed the TTL): the CAS fails.
	_, err = apply(change(types.ChangeActionDelete, rrs("www.example.com", types.RRTypeCname, 60, "d111.cloudfront.net")),
		change(types.ChangeActionCreate, rrs("www.example.com", types.RRTypeCname, 60, "d222.cloudfront.net")))
	apiErr(t, err, "InvalidChangeBatch", "but the values provided do not match the current values")
	// CNAME conflict.
	_, err = apply(change(types.ChangeActionCreate, rrs("www.example.com", types.RRTypeA, 60, "192.0.2.1")))
	apiErr(t, err, "InvalidChangeBatch", "is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone example.com.")
	// InvalidInput for an alias with a TTL.
	_, err = apply(change(types.ChangeActionUpsert, &types.ResourceRecordSet{Name: aws.String("x.example.com"), Type: types.RRTypeA, TTL: aws.Int64(60),
		AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(route53.CloudFrontZoneID), DNSName: aws.String("d1.cloudfront.net")}}))
	apiErr(t, err, "InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in Change with [Action=UPSERT, Name=x.example.com, Type=A, SetIdentifier=null]")

	// The atomic swap: DELETE the exact CNAME and CREATE an alias in one batch.
	swap, err := apply(change(types.ChangeActionDelete, cname), change(types.ChangeActionCreate, &types.ResourceRecordSet{
		Name: aws.String("www.example.com"), Type: types.RRTypeA,
		AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(route53.CloudFrontZoneID), DNSName: aws.String("D222.cloudfront.net"), EvaluateTargetHealth: false},
	}))
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zid), StartRecordName: aws.String("www.example.com"), StartRecordType: types.RRTypeA, MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	got := list.ResourceRecordSets[0]
	if got.Type != types.RRTypeA || got.TTL != nil || got.ResourceRecords != nil || aws.ToString(got.AliasTarget.DNSName) != "d222.cloudfront.net." || list.IsTruncated {
		t.Fatalf("after swap: %+v truncated=%v", got, list.IsTruncated)
	}

	// GetChange: PENDING until the propagation delay has passed on the clock.
	id := aws.ToString(swap.ChangeInfo.Id)
	for _, tc := range []struct {
		advance time.Duration
		want    types.ChangeStatus
	}{{0, types.ChangeStatusPending}, {29 * time.Second, types.ChangeStatusPending}, {time.Second, types.ChangeStatusInsync}} {
		l.clock.Advance(tc.advance)
		st, err := c.GetChange(ctx, &r53.GetChangeInput{Id: aws.String(id)})
		if err != nil || st.ChangeInfo.Status != tc.want {
			t.Fatalf("GetChange after +%v: %+v %v, want %s", tc.advance, st, err, tc.want)
		}
	}
	_, err = c.GetChange(ctx, &r53.GetChangeInput{Id: aws.String("CNOPE")})
	var nsc *types.NoSuchChange
	if !errors.As(err, &nsc) {
		t.Fatalf("unknown change: %v", err)
	}
	// The SDK's waiter works against the lab.
	up, err := apply(change(types.ChangeActionCreate, rrs("api.example.com", types.RRTypeA, 60, "192.0.2.7")))
	if err != nil {
		t.Fatal(err)
	}
	l.clock.Advance(30 * time.Second)
	w := r53.NewResourceRecordSetsChangedWaiter(c)
	if err := w.Wait(ctx, &r53.GetChangeInput{Id: up.ChangeInfo.Id}, time.Second); err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if _, sets, _ := l.svc.Served("api.example.com"); len(sets) != 1 {
		t.Fatalf("INSYNC record not served: %v", sets)
	}
}

func TestSDKListPagination(t *testing.T) {
	l := newLab(t, route53.Options{})
	c, ctx := l.client(), context.Background()
	zid := createZone(t, c, "example.com")
	var changes []types.Change
	for _, n := range []string{"a", "b", "c", "*"} {
		changes = append(changes, change(types.ChangeActionCreate, rrs(n+".example.com", types.RRTypeA, 60, "192.0.2.1")))
	}
	for _, id := range []string{"blue", "green"} {
		rs := rrs("w.example.com", types.RRTypeA, 60, "192.0.2.2")
		rs.SetIdentifier, rs.Weight = aws.String(id), aws.Int64(1)
		changes = append(changes, change(types.ChangeActionCreate, rs))
	}
	if _, err := c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zid), ChangeBatch: batch(changes...)}); err != nil {
		t.Fatal(err)
	}
	// 8 sets in pages of 3: 3 pages, markers include the set identifier.
	var seen []string
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zid), MaxItems: aws.Int32(3)}
	pages := 0
	for {
		out, err := c.ListResourceRecordSets(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, rs := range out.ResourceRecordSets {
			seen = append(seen, fmt.Sprintf("%s/%s/%s", aws.ToString(rs.Name), rs.Type, aws.ToString(rs.SetIdentifier)))
		}
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	want := `example.com./NS/ example.com./SOA/ \052.example.com./A/ a.example.com./A/ b.example.com./A/ c.example.com./A/ w.example.com./A/blue w.example.com./A/green`
	if pages != 3 || strings.Join(seen, " ") != want {
		t.Fatalf("%d pages:\n got %s\nwant %s", pages, strings.Join(seen, " "), want)
	}
	// type without name is InvalidInput.
	_, err := c.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zid), StartRecordType: types.RRTypeA})
	apiErr(t, err, "InvalidInput", "")
}

func TestSDKThrottlingLegacy(t *testing.T) {
	l := newLab(t, route53.Options{RateLimit: route53.RateLimitLegacy})
	c, ctx := l.client(), context.Background()
	for i := 0; i < 5; i++ {
		if _, err := c.ListHostedZones(ctx, &r53.ListHostedZonesInput{}); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	_, err := c.ListHostedZones(ctx, &r53.ListHostedZonesInput{})
	ae := apiErr(t, err, "Throttling", "Rate exceeded")
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 400 {
		t.Fatalf("status %d, want 400 (%v)", re.HTTPStatusCode(), ae)
	}
	// The bucket refills at 5/s on the lab's clock.
	l.clock.Advance(200 * time.Millisecond)
	if _, err := c.ListHostedZones(ctx, &r53.ListHostedZonesInput{}); err != nil {
		t.Fatalf("after 200ms: %v", err)
	}
	if _, err := c.ListHostedZones(ctx, &r53.ListHostedZonesInput{}); err == nil {
		t.Fatal("second call after 200ms not throttled")
	}
	// Other accounts have their own bucket.
	other := r53.NewFromConfig(awstest.ConfigAs(l.url, awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, ""))
	if _, err := other.ListHostedZones(ctx, &r53.ListHostedZonesInput{}); err != nil {
		t.Fatalf("other account throttled: %v", err)
	}
}

func TestSDKThrottlingBuckets(t *testing.T) {
	l := newLab(t, route53.Options{RateLimit: route53.RateLimitBuckets})
	c, ctx := l.client(), context.Background()
	zid := createZone(t, c, "example.com")
	hc, err := c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("h"),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String("x.example.com")}})
	if err != nil {
		t.Fatal(err)
	}
	// GetHealthCheckStatus has a bucket of 4 (1/s); other actions still pass.
	for i := 0; i < 4; i++ {
		if _, err := c.GetHealthCheckStatus(ctx, &r53.GetHealthCheckStatusInput{HealthCheckId: hc.HealthCheck.Id}); err != nil {
			t.Fatalf("status %d: %v", i, err)
		}
	}
	_, err = c.GetHealthCheckStatus(ctx, &r53.GetHealthCheckStatusInput{HealthCheckId: hc.HealthCheck.Id})
	apiErr(t, err, "Throttling", "Rate exceeded")
	if _, err := c.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(zid)}); err != nil {
		t.Fatalf("other action throttled: %v", err)
	}
	// The account bucket (50) caps everything.
	n := 0
	for ; n < 60; n++ {
		if _, err := c.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(zid)}); err != nil {
			apiErr(t, err, "Throttling", "Rate exceeded")
			break
		}
	}
	if n != 50-7 { // 7 calls already taken: create zone, create check, 4 status, 1 get
		t.Fatalf("account bucket allowed %d more calls, want 43", n)
	}
}

func TestSDKFaultInjection(t *testing.T) {
	l := newLab(t, route53.Options{})
	c, ctx := l.client(), context.Background()
	zid := createZone(t, c, "example.com")
	other := createZone(t, c, "example.org")
	l.svc.InjectFault(route53.Fault{Operation: "ChangeResourceRecordSets", ZoneID: zid, Count: 2,
		Err: awsapi.Errorf(400, "PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.")})
	apply := func(zone, name string) error {
		_, err := c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone),
			ChangeBatch: batch(change(types.ChangeActionUpsert, rrs(name, types.RRTypeA, 60, "192.0.2.1")))})
		return err
	}
	if err := apply(other, "a.example.org"); err != nil {
		t.Fatalf("fault hit another zone: %v", err)
	}
	for i := 0; i < 2; i++ {
		var prior *types.PriorRequestNotComplete
		if err := apply(zid, "a.example.com"); !errors.As(err, &prior) {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if err := apply(zid, "a.example.com"); err != nil {
		t.Fatalf("third call: %v", err)
	}
	if recs, _ := l.svc.Records(zid); len(recs) != 3 {
		t.Fatalf("faulted calls changed the zone: %d sets", len(recs))
	}
	l.svc.InjectFault(route53.Fault{}) // any operation, throttling, once
	_, err := c.ListHostedZones(ctx, &r53.ListHostedZonesInput{})
	apiErr(t, err, "Throttling", "Rate exceeded")
}

func TestSDKHealthChecks(t *testing.T) {
	l := newLab(t, route53.Options{})
	c, ctx := l.client(), context.Background()
	cfg := &types.HealthCheckConfig{Type: types.HealthCheckTypeHttps, FullyQualifiedDomainName: aws.String("origin.example.com"), ResourcePath: aws.String("/health")}
	out, err := c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("hc1"), HealthCheckConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	hc := out.HealthCheck
	if aws.ToInt64(hc.HealthCheckVersion) != 1 || aws.ToInt32(hc.HealthCheckConfig.Port) != 443 || aws.ToInt32(hc.HealthCheckConfig.RequestInterval) != 30 ||
		aws.ToInt32(hc.HealthCheckConfig.FailureThreshold) != 3 || !aws.ToBool(hc.HealthCheckConfig.EnableSNI) {
		t.Fatalf("defaults: %+v", hc.HealthCheckConfig)
	}
	again, err := c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("hc1"), HealthCheckConfig: cfg})
	if err != nil || aws.ToString(again.HealthCheck.Id) != aws.ToString(hc.Id) {
		t.Fatalf("idempotent create: %v %v", again, err)
	}
	cfg2 := *cfg
	cfg2.ResourcePath = aws.String("/other")
	_, err = c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("hc1"), HealthCheckConfig: &cfg2})
	var dup *types.HealthCheckAlreadyExists
	if !errors.As(err, &dup) {
		t.Fatalf("same reference, other settings: %v", err)
	}

	up, err := c.UpdateHealthCheck(ctx, &r53.UpdateHealthCheckInput{HealthCheckId: hc.Id, HealthCheckVersion: aws.Int64(1), FailureThreshold: aws.Int32(1)})
	if err != nil || aws.ToInt64(up.HealthCheck.HealthCheckVersion) != 2 || aws.ToInt32(up.HealthCheck.HealthCheckConfig.FailureThreshold) != 1 {
		t.Fatalf("update: %+v %v", up, err)
	}
	_, err = c.UpdateHealthCheck(ctx, &r53.UpdateHealthCheckInput{HealthCheckId: hc.Id, HealthCheckVersion: aws.Int64(1), FailureThreshold: aws.Int32(2)})
	var mismatch *types.HealthCheckVersionMismatch
	if !errors.As(err, &mismatch) {
		t.Fatalf("stale version: %v", err)
	}

	st, err := c.GetHealthCheckStatus(ctx, &r53.GetHealthCheckStatusInput{HealthCheckId: hc.Id})
	if err != nil || len(st.HealthCheckObservations) != 8 || !strings.HasPrefix(aws.ToString(st.HealthCheckObservations[0].StatusReport.Status), "Success") {
		t.Fatalf("status: %+v %v", st, err)
	}
	l.svc.SetHealthCheckStatus(aws.ToString(hc.Id), false)
	st, _ = c.GetHealthCheckStatus(ctx, &r53.GetHealthCheckStatusInput{HealthCheckId: hc.Id})
	if !strings.HasPrefix(aws.ToString(st.HealthCheckObservations[0].StatusReport.Status), "Failure") || l.svc.HealthCheckHealthy(aws.ToString(hc.Id)) {
		t.Fatalf("unhealthy status: %+v", st.HealthCheckObservations[0].StatusReport)
	}

	// Records can name the check; unknown checks are refused.
	zid := createZone(t, c, "example.com")
	rs := rrs("www.example.com", types.RRTypeA, 60, "192.0.2.1")
	rs.SetIdentifier, rs.Failover, rs.HealthCheckId = aws.String("p"), types.ResourceRecordSetFailoverPrimary, hc.Id
	if _, err := c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zid), ChangeBatch: batch(change(types.ChangeActionCreate, rs))}); err != nil {
		t.Fatal(err)
	}
	rs.HealthCheckId, rs.SetIdentifier = aws.String("no-such-check"), aws.String("q")
	_, err = c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zid), ChangeBatch: batch(change(types.ChangeActionCreate, rs))})
	var nsh *types.NoSuchHealthCheck
	if !errors.As(err, &nsh) {
		t.Fatalf("unknown health check: %v", err)
	}

	lst, err := c.ListHealthChecks(ctx, &r53.ListHealthChecksInput{})
	if err != nil || len(lst.HealthChecks) != 1 {
		t.Fatalf("list: %+v %v", lst, err)
	}
	if _, err := c.DeleteHealthCheck(ctx, &r53.DeleteHealthCheckInput{HealthCheckId: hc.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: hc.Id})
	if !errors.As(err, &nsh) {
		t.Fatalf("deleted check: %v", err)
	}
}

// The lab's other services read the served view through these interfaces.
var (
	_ acm.Resolver   = (*route53.Service)(nil)
	_ cloudfront.DNS = (*route53.Service)(nil)
)
