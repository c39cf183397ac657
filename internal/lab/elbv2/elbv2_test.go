package elbv2

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type lab struct {
	clock *fakeclock.Clock
	env   awsapi.Env
	svc   *Service
	url   string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{clock: fakeclock.New(t0)}
	l.env = awsapi.NewEnv(l.clock)
	l.svc = New(l.env, Options{HealthyAfter: 20 * time.Second, DeregistrationDelay: time.Minute})
	srv := httptest.NewServer(awstest.Authenticate(l.env, awstest.XMLErrors(Namespace), awstest.ErrMissingToken, l.svc))
	t.Cleanup(srv.Close)
	l.url = srv.URL
	return l
}

func (l *lab) client() *elb.Client { return elb.NewFromConfig(awstest.Config(l.url)) }

func (l *lab) otherClient() *elb.Client {
	return elb.NewFromConfig(awstest.ConfigAs(l.url, awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, ""))
}

type healthRow struct{ id, state, reason string }

func health(t *testing.T, c *elb.Client, tgArn string) []healthRow {
	t.Helper()
	out, err := c.DescribeTargetHealth(context.Background(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgArn)})
	if err != nil {
		t.Fatal(err)
	}
	var rows []healthRow
	for _, d := range out.TargetHealthDescriptions {
		rows = append(rows, healthRow{aws.ToString(d.Target.Id), string(d.TargetHealth.State), string(d.TargetHealth.Reason)})
	}
	return rows
}

func sameRows(t *testing.T, got []healthRow, want ...healthRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("health = %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("health = %+v, want %+v", got, want)
		}
	}
}

var dnsPattern = regexp.MustCompile(`^blue-alb-[1-9][0-9]{9}\.us-east-1\.elb\.amazonaws\.com$`)

func TestLoadBalancerLifecycleAndTargetHealth(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	c := l.client()

	created, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("blue-alb"), Subnets: []string{"subnet-1", "subnet-2"}})
	if err != nil {
		t.Fatal(err)
	}
	lb := created.LoadBalancers[0]
	lbArn := aws.ToString(lb.LoadBalancerArn)
	if !dnsPattern.MatchString(aws.ToString(lb.DNSName)) || aws.ToString(lb.CanonicalHostedZoneId) != "Z35SXDOTRQ7X7K" ||
		lb.State.Code != types.LoadBalancerStateEnumActive || lb.Type != types.LoadBalancerTypeEnumApplication ||
		!strings.HasPrefix(lbArn, "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/blue-alb/") || len(lb.AvailabilityZones) != 2 {
		t.Fatalf("created %+v", lb)
	}
	// Identical settings: idempotent. Different settings: duplicate name.
	again, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("blue-alb")})
	if err != nil || aws.ToString(again.LoadBalancers[0].LoadBalancerArn) != lbArn {
		t.Fatalf("idempotent create: %v", err)
	}
	_, err = c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("blue-alb"), Scheme: types.LoadBalancerSchemeEnumInternal})
	awstest.APIError(t, err, "DuplicateLoadBalancerName", "A load balancer with the same name 'blue-alb' exists, but with different settings")

	tgOut, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("blue-web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080), TargetType: types.TargetTypeEnumIp, VpcId: aws.String("vpc-1")})
	if err != nil {
		t.Fatal(err)
	}
	tgArn := aws.ToString(tgOut.TargetGroups[0].TargetGroupArn)
	_, err = c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("blue-web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(9090), TargetType: types.TargetTypeEnumIp, VpcId: aws.String("vpc-1")})
	awstest.APIError(t, err, "DuplicateTargetGroupName", "A target group with the same name 'blue-web' exists, but with different settings")

	_, err = c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgArn), Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}, {Id: aws.String("10.0.0.2"), Port: aws.Int32(8081)}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgArn), Targets: []types.TargetDescription{{Id: aws.String("not-an-ip")}}})
	awstest.APIError(t, err, "InvalidTarget", "The IP address 'not-an-ip' is not a valid IPv4 address")

	// No listener forwards to the group yet.
	sameRows(t, health(t, c, tgArn), healthRow{"10.0.0.1", "unused", "Target.NotInUse"}, healthRow{"10.0.0.2", "unused", "Target.NotInUse"})

	l.clock.Advance(time.Hour) // the initial period starts when traffic can flow, not at registration
	lis, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbArn), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgArn)}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(lis.Listeners[0].Port) != 80 || aws.ToString(lis.Listeners[0].DefaultActions[0].TargetGroupArn) != tgArn {
		t.Fatalf("listener %+v", lis.Listeners[0])
	}
	_, err = c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbArn), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgArn)}}})
	awstest.APIError(t, err, "DuplicateListener", "")

	sameRows(t, health(t, c, tgArn), healthRow{"10.0.0.1", "initial", "Elb.RegistrationInProgress"}, healthRow{"10.0.0.2", "initial", "Elb.RegistrationInProgress"})
	l.clock.Advance(20 * time.Second)
	sameRows(t, health(t, c, tgArn), healthRow{"10.0.0.1", "healthy", ""}, healthRow{"10.0.0.2", "healthy", ""})

	// The data plane reports a failing target.
	if err := l.svc.SetTargetHealth(tgArn, "10.0.0.2", "unhealthy", "Target.Timeout"); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgArn), Targets: []types.TargetDescription{{Id: aws.String("10.0.0.2")}, {Id: aws.String("10.0.0.9")}}})
	if err != nil {
		t.Fatal(err)
	}
	d := out.TargetHealthDescriptions
	if len(d) != 2 || d[0].TargetHealth.State != types.TargetHealthStateEnumUnhealthy || d[0].TargetHealth.Reason != types.TargetHealthReasonEnumTimeout ||
		aws.ToString(d[0].TargetHealth.Description) != "Request timed out" || aws.ToInt32(d[0].Target.Port) != 8081 || aws.ToString(d[0].HealthCheckPort) != "8081" ||
		d[1].TargetHealth.State != types.TargetHealthStateEnumUnused || d[1].TargetHealth.Reason != types.TargetHealthReasonEnumNotRegistered {
		t.Fatalf("filtered health %+v", d)
	}

	if _, err := c.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tgArn), Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tgArn), Targets: []types.TargetDescription{{Id: aws.String("10.0.0.7")}}})
	awstest.APIError(t, err, "InvalidTarget", "")
	sameRows(t, health(t, c, tgArn), healthRow{"10.0.0.1", "draining", "Target.DeregistrationInProgress"}, healthRow{"10.0.0.2", "unhealthy", "Target.Timeout"})
	l.clock.Advance(time.Minute)
	sameRows(t, health(t, c, tgArn), healthRow{"10.0.0.2", "unhealthy", "Target.Timeout"})

	tgs, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lbArn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tgs.TargetGroups) != 1 || len(tgs.TargetGroups[0].LoadBalancerArns) != 1 || tgs.TargetGroups[0].LoadBalancerArns[0] != lbArn || tgs.TargetGroups[0].TargetType != types.TargetTypeEnumIp {
		t.Fatalf("target groups of lb: %+v", tgs.TargetGroups)
	}
	_, err = c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(tgArn)})
	awstest.APIError(t, err, "ResourceInUse", "Target group '"+tgArn+"' is currently in use by a listener or a rule")

	if _, err := c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbArn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbArn)}); err != nil {
		t.Fatalf("deleting a deleted load balancer: %v", err)
	}
	_, err = c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbArn}})
	awstest.APIError(t, err, "LoadBalancerNotFound", "One or more load balancers not found")
	if _, err := c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(tgArn)}); err != nil {
		t.Fatalf("delete unused target group: %v", err)
	}
	_, err = c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgArn)})
	awstest.APIError(t, err, "TargetGroupNotFound", "One or more target groups not found")

	var ops []string
	for _, h := range l.env.History.List(awsapi.Filter{}) {
		ops = append(ops, h.Operation)
	}
	want := "CreateLoadBalancer CreateTargetGroup RegisterTargets CreateListener TargetHealthChange DeregisterTargets DeleteLoadBalancer DeleteTargetGroup"
	if strings.Join(ops, " ") != want {
		t.Fatalf("history %s\nwant    %s", strings.Join(ops, " "), want)
	}
}

func TestDescribeLoadBalancersByNameAndPages(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	var names []string
	for _, n := range []string{"a1", "a2", "a3"} {
		if _, err := l.svc.CreateALB(awsapi.DefaultAccountID, n, "us-east-1"); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if _, err := l.svc.CreateALB(awsapi.OtherAccountID, "theirs", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.CreateALB(awsapi.DefaultAccountID, "in-eu", "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	p := elb.NewDescribeLoadBalancersPaginator(l.client(), &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(2)})
	var got []string
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, lb := range page.LoadBalancers {
			got = append(got, aws.ToString(lb.LoadBalancerName))
		}
	}
	if pages != 2 || strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%d pages: %v", pages, got)
	}
	out, err := l.client().DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"a2"}})
	if err != nil || len(out.LoadBalancers) != 1 || aws.ToString(out.LoadBalancers[0].LoadBalancerName) != "a2" {
		t.Fatalf("by name: %v %+v", err, out)
	}
	_, err = l.client().DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"theirs"}})
	awstest.APIError(t, err, "LoadBalancerNotFound", "Load balancers '[theirs]' not found")

	cfg := awstest.Config(l.url)
	cfg.Region = "eu-west-1"
	eu, err := elb.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(eu.LoadBalancers) != 1 || aws.ToString(eu.LoadBalancers[0].CanonicalHostedZoneId) != "Z32O12XQLNTSW2" || !strings.HasSuffix(aws.ToString(eu.LoadBalancers[0].DNSName), ".eu-west-1.elb.amazonaws.com") {
		t.Fatalf("eu-west-1: %v %+v", err, eu)
	}
	other, err := l.otherClient().DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(other.LoadBalancers) != 1 || aws.ToString(other.LoadBalancers[0].LoadBalancerName) != "theirs" {
		t.Fatalf("other account: %v %+v", err, other)
	}
}

func TestValidationErrors(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	c := l.client()
	_, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("-bad")})
	awstest.APIError(t, err, "ValidationError", "Load balancer name '-bad' cannot begin or end with a hyphen(-)")
	_, err = c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(strings.Repeat("x", 33))})
	awstest.APIError(t, err, "ValidationError", "Load balancer name '"+strings.Repeat("x", 33)+"' cannot be longer than '32' characters")
	_, err = c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("tg"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(0)})
	awstest.APIError(t, err, "ValidationError", "A port between 1 and 65535 must be specified")
	_, err = c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"x"}, LoadBalancerArns: []string{"arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/x/1"}})
	awstest.APIError(t, err, "ValidationError", "")
	_, err = c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"ghost"}})
	awstest.APIError(t, err, "TargetGroupNotFound", "Target groups '[ghost]' not found")
	_, err = c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/ghost/0123456789abcdef")})
	awstest.APIError(t, err, "LoadBalancerNotFound", "One or more load balancers not found")
	lb, _ := l.svc.CreateALB(awsapi.DefaultAccountID, "web", "us-east-1")
	tg, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("tls"), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lb.ARN), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}}})
	awstest.APIError(t, err, "ValidationError", "A certificate must be specified for HTTPS listeners")
	_, err = c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroups[0].TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("i-nothere")}}})
	awstest.APIError(t, err, "InvalidTarget", "The following targets are not in a running state and cannot be registered: 'i-nothere'")
	_, err = l.otherClient().DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroups[0].TargetGroupArn})
	awstest.APIError(t, err, "TargetGroupNotFound", "")

	// Only the target group creation was accepted.
	if h := l.env.History.List(awsapi.Filter{}); len(h) != 1 || h[0].Operation != "CreateTargetGroup" {
		t.Fatalf("history %+v", h)
	}
}

func TestHTTPSListenerCertificateUsers(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	lb, _ := l.svc.CreateALB(awsapi.DefaultAccountID, "tls", "us-east-1")
	tg, err := l.client().CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("tls"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), TargetType: types.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	cert := "arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-4333-8444-555555555555"
	lis, err := l.client().CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lb.ARN), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates:   []types.Certificate{{CertificateArn: aws.String(cert)}},
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.svc.CertificateUsers(cert); len(got) != 1 || got[0] != aws.ToString(lis.Listeners[0].ListenerArn) {
		t.Fatalf("certificate users %v", got)
	}
	dl, err := l.client().DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lb.ARN)})
	if err != nil || len(dl.Listeners) != 1 || len(dl.Listeners[0].Certificates) != 1 || dl.Listeners[0].Protocol != types.ProtocolEnumHttps {
		t.Fatalf("describe listeners: %v %+v", err, dl)
	}
	if _, err := l.client().DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: lis.Listeners[0].ListenerArn}); err != nil {
		t.Fatal(err)
	}
	if got := l.svc.CertificateUsers(cert); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
	_, err = l.client().DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{aws.ToString(lis.Listeners[0].ListenerArn)}})
	awstest.APIError(t, err, "ListenerNotFound", "One or more listeners not found")
}

func TestGoAPIForSeedsAndDataPlane(t *testing.T) {
	l := newLab(t)
	lb, err := l.svc.CreateALB(awsapi.OtherAccountID, "green", "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	if lb.CanonicalHostedZoneID != "Z1H1FL5HABSF5" || lb.AccountID != awsapi.OtherAccountID || !strings.HasPrefix(lb.DNSName, "green-") {
		t.Fatalf("CreateALB = %+v", lb)
	}
	if _, err := l.svc.CreateALB(awsapi.OtherAccountID, "nowhere", "mars-north-1"); err == nil {
		t.Fatal("CreateALB accepted an unknown region")
	}
	tg, err := l.svc.AddTargetGroup(lb.ARN, "green-web", 8080, []Target{{ID: "127.0.0.1", Port: 18080}, {ID: "127.0.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.Targets) != 2 || tg.Targets[0].State != StateHealthy || tg.Targets[1].Port != 8080 {
		t.Fatalf("seeded targets %+v", tg.Targets)
	}
	tg2, err := l.svc.AddTargetGroup(lb.ARN, "green-api", 9090, []Target{{ID: "127.0.0.3"}})
	if err != nil || tg2.Targets[0].State != StateHealthy {
		t.Fatalf("second group: %v %+v", err, tg2)
	}
	if err := l.svc.SetTargetHealth(tg.ARN, "127.0.0.1", "healthy", "Target.Timeout"); err == nil {
		t.Fatal("SetTargetHealth accepted a reason healthy never has")
	}
	if err := l.svc.SetTargetHealth(tg.ARN, "10.9.9.9", "unhealthy", "Target.Timeout"); err == nil {
		t.Fatal("SetTargetHealth accepted an unregistered target")
	}
	if err := l.svc.SetTargetHealth(tg.ARN, "127.0.0.1", "unhealthy", "Target.ResponseCodeMismatch"); err != nil {
		t.Fatal(err)
	}
	got, ok := l.svc.ByDNSName("DualStack." + strings.ToUpper(lb.DNSName) + ".")
	if !ok || got.ARN != lb.ARN || len(got.TargetGroups) != 2 {
		t.Fatalf("ByDNSName = %+v %v", got, ok)
	}
	if ts := got.TargetGroups[0].Targets[0]; ts.State != StateUnhealthy || ts.Reason != "Target.ResponseCodeMismatch" || ts.Description == "" {
		t.Fatalf("reported health %+v", ts)
	}
	if _, ok := l.svc.ByDNSName("nope.elb.amazonaws.com"); ok {
		t.Fatal("ByDNSName found a stranger")
	}
	all := l.svc.LoadBalancers()
	if len(all) != 1 || all[0].Name != "green" {
		t.Fatalf("LoadBalancers = %+v", all)
	}
	// The seed itself is not history; the health change is.
	h := l.env.History.List(awsapi.Filter{})
	if len(h) != 1 || h[0].Operation != "TargetHealthChange" || h[0].Caller != "elasticloadbalancing.amazonaws.com" || h[0].Account != awsapi.OtherAccountID {
		t.Fatalf("history %+v", h)
	}
	// The seeded listener is visible through the API of the owning account.
	cfg := awstest.ConfigAs(l.url, awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, "")
	cfg.Region = "us-west-2"
	dl, err := elb.NewFromConfig(cfg).DescribeListeners(context.Background(), &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lb.ARN)})
	if err != nil || len(dl.Listeners) != 1 || aws.ToInt32(dl.Listeners[0].Port) != 80 {
		t.Fatalf("seeded listener: %v %+v", err, dl)
	}
}

func TestSnapshotRestore(t *testing.T) {
	l := newLab(t)
	lb, _ := l.svc.CreateALB(awsapi.DefaultAccountID, "snap", "us-east-1")
	tg, err := l.svc.AddTargetGroup(lb.ARN, "snap-web", 80, []Target{{ID: "10.1.1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := l.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	svc2 := New(awsapi.NewEnv(l.clock), Options{})
	if err := svc2.Restore(raw); err != nil {
		t.Fatal(err)
	}
	got, ok := svc2.ByDNSName(lb.DNSName)
	if !ok || len(got.TargetGroups) != 1 || got.TargetGroups[0].ARN != tg.ARN || got.TargetGroups[0].Targets[0].State != StateHealthy {
		t.Fatalf("restored %+v", got)
	}
	if err := svc2.Restore(json.RawMessage(`{"listeners":[{"arn":"x","load_balancer":"ghost"}]}`)); err == nil {
		t.Fatal("restore accepted a dangling listener")
	}
}

func TestProtocolErrors(t *testing.T) {
	l := newLab(t)
	for _, tc := range []struct{ body, code string }{
		{"Action=Explode&Version=2015-12-01", "InvalidAction"},
		{"Version=2015-12-01", "MissingAction"},
		{"Action=DescribeLoadBalancers&Version=2012-06-01", "InvalidAction"},
		{"Action=%zz", "MalformedQueryString"},
		{"Action=DescribeLoadBalancers&PageSize=abc", "ValidationError"},
		{"Action=DescribeLoadBalancers&Marker=bogus", "ValidationError"},
		{"Action=RegisterTargets&TargetGroupArn=x&Targets.member.1.Port=80", "ValidationError"},
	} {
		rec := httptest.NewRecorder()
		l.svc.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body)))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "<Code>"+tc.code+"</Code>") {
			t.Fatalf("%q: %d %s", tc.body, rec.Code, rec.Body.String())
		}
	}
}

func TestCLI(t *testing.T) {
	l := newLab(t)
	lb, _ := l.svc.CreateALB(awsapi.DefaultAccountID, "blue-alb", "us-east-1")
	tg, err := l.svc.AddTargetGroup(lb.ARN, "blue-web", 8080, []Target{{ID: "10.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	res := awstest.CLI(t, l.url, "elbv2", "describe-load-balancers", "--names", "blue-alb")
	if res.ExitCode != 0 {
		t.Fatalf("describe-load-balancers: %d %s", res.ExitCode, res.Stderr)
	}
	var lbs struct {
		LoadBalancers []struct {
			LoadBalancerArn, DNSName, CanonicalHostedZoneId, LoadBalancerName, Scheme, Type string
			State                                                                           struct{ Code string }
		}
	}
	if err := json.Unmarshal([]byte(res.Stdout), &lbs); err != nil {
		t.Fatalf("%v: %s", err, res.Stdout)
	}
	if len(lbs.LoadBalancers) != 1 || lbs.LoadBalancers[0].DNSName != lb.DNSName || lbs.LoadBalancers[0].CanonicalHostedZoneId != "Z35SXDOTRQ7X7K" || lbs.LoadBalancers[0].State.Code != "active" {
		t.Fatalf("cli load balancers %+v", lbs)
	}
	res = awstest.CLI(t, l.url, "elbv2", "describe-load-balancers", "--names", "ghost")
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "An error occurred (LoadBalancerNotFound) when calling the DescribeLoadBalancers operation") || !strings.Contains(res.Stderr, "Load balancers '[ghost]' not found") {
		t.Fatalf("cli missing lb: %d %s", res.ExitCode, res.Stderr)
	}

	if err := l.svc.SetTargetHealth(tg.ARN, "10.0.0.1", "unhealthy", "Target.FailedHealthChecks"); err != nil {
		t.Fatal(err)
	}
	res = awstest.CLI(t, l.url, "elbv2", "describe-target-health", "--target-group-arn", tg.ARN)
	if res.ExitCode != 0 {
		t.Fatalf("describe-target-health: %d %s", res.ExitCode, res.Stderr)
	}
	var th struct {
		TargetHealthDescriptions []struct {
			Target struct {
				Id   string
				Port int
			}
			HealthCheckPort string
			TargetHealth    struct{ State, Reason, Description string }
		}
	}
	if err := json.Unmarshal([]byte(res.Stdout), &th); err != nil {
		t.Fatalf("%v: %s", err, res.Stdout)
	}
	if len(th.TargetHealthDescriptions) != 1 || th.TargetHealthDescriptions[0].Target.Port != 8080 || th.TargetHealthDescriptions[0].TargetHealth.State != "unhealthy" ||
		th.TargetHealthDescriptions[0].TargetHealth.Reason != "Target.FailedHealthChecks" || th.TargetHealthDescriptions[0].TargetHealth.Description != "Health checks failed" {
		t.Fatalf("cli target health %+v", th)
	}
	missing := strings.Replace(tg.ARN, "blue-web", "gone-web", 1)
	res = awstest.CLI(t, l.url, "elbv2", "describe-target-health", "--target-group-arn", missing)
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "(TargetGroupNotFound)") || !strings.Contains(res.Stderr, "One or more target groups not found") {
		t.Fatalf("cli missing tg: %d %s", res.ExitCode, res.Stderr)
	}
	res = awstest.CLI(t, l.url, "elbv2", "create-load-balancer", "--name", "blue-alb", "--scheme", "internal")
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "(DuplicateLoadBalancerName)") {
		t.Fatalf("cli duplicate: %d %s", res.ExitCode, res.Stderr)
	}
}
