package elbv2

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// FuzzQuery feeds arbitrary query-protocol bodies to a service holding one
// load balancer with a target group: the answer is a success or a 4xx,
// never a panic or a 5xx.
func FuzzQuery(f *testing.F) {
	f.Add("Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=seed&PageSize=1")
	f.Add("Action=CreateLoadBalancer&Name=x-1&Subnets.member.1=subnet-1&Scheme=internal")
	f.Add("Action=CreateTargetGroup&Name=t&Protocol=HTTP&Port=80&TargetType=ip")
	f.Add("Action=RegisterTargets&TargetGroupArn=TG&Targets.member.1.Id=10.0.0.1&Targets.member.1.Port=81")
	f.Add("Action=DeregisterTargets&TargetGroupArn=TG&Targets.member.1.Id=10.0.0.1")
	f.Add("Action=DescribeTargetHealth&TargetGroupArn=TG&Targets.member.1.Id=10.0.0.9")
	f.Add("Action=CreateListener&LoadBalancerArn=LB&Protocol=HTTPS&Port=443&DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn=TG&Certificates.member.1.CertificateArn=c")
	f.Add("Action=DescribeListeners&LoadBalancerArn=LB")
	f.Add("Action=DeleteTargetGroup&TargetGroupArn=TG")
	f.Add("Action=DeleteLoadBalancer&LoadBalancerArn=LB")
	f.Add("Action=DescribeTargetGroups&Marker=lab-elb-00000000000000000001&PageSize=400")
	f.Fuzz(func(t *testing.T, body string) {
		env := awsapi.NewEnv(fakeclock.New(time.Unix(0, 0)))
		svc := New(env, Options{})
		lb, err := svc.CreateALB(awsapi.DefaultAccountID, "seed", "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		tg, err := svc.AddTargetGroup(lb.ARN, "seed-tg", 80, []Target{{ID: "10.0.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		// Placeholders let the corpus name the seeded resources.
		body = strings.NewReplacer("TG", tg.ARN, "LB", lb.ARN).Replace(body)
		awstest.NoServerFault(t, svc, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)), strconv.Quote(body))
	})
}
