package route53

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/dns"
)

const r53NS = "https://route53.amazonaws.com/doc/2013-04-01/"

// scripted answers Route 53 REST-XML requests from a per-route queue of
// canned bodies, recording every request. It checks the SDK's decoding of
// the exact error shapes Route 53 sends, which moto does not reproduce.
type scripted struct {
	mu      sync.Mutex
	answers map[string][]reply // "POST rrset" / "GET rrset" → replies; the last repeats
	seen    []string           // "METHOD path" per request
	bodies  []string
}

type reply struct {
	status int
	body   string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	route := r.Method + " " + r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	if strings.HasSuffix(r.URL.Path, "/rrset/") || strings.HasSuffix(r.URL.Path, "/rrset") {
		route = r.Method + " rrset"
	}
	s.mu.Lock()
	s.seen = append(s.seen, r.Method+" "+r.URL.Path)
	s.bodies = append(s.bodies, string(body))
	q := s.answers[route]
	var a reply
	switch {
	case len(q) == 0:
		a = reply{500, "no script for " + route}
	case len(q) == 1:
		a = q[0]
	default:
		a, s.answers[route] = q[0], q[1:]
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(a.status)
	fmt.Fprint(w, a.body)
}

func (s *scripted) count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, x := range s.seen {
		if strings.HasPrefix(x, method+" ") {
			n++
		}
	}
	return n
}

func errorXML(code, msg string) string {
	return `<?xml version="1.0"?><ErrorResponse xmlns="` + r53NS + `"><Error><Type>Sender</Type><Code>` + code +
		`</Code><Message>` + msg + `</Message></Error><RequestId>r</RequestId></ErrorResponse>`
}

const changeOK = `<?xml version="1.0"?><ChangeResourceRecordSetsResponse xmlns="` + r53NS + `"><ChangeInfo>` +
	`<Id>/change/C2682N5HXP0BZ4</Id><Status>PENDING</Status><SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt>` +
	`</ChangeInfo></ChangeResourceRecordSetsResponse>`

func listXML(sets string) string {
	return `<?xml version="1.0"?><ListResourceRecordSetsResponse xmlns="` + r53NS + `"><ResourceRecordSets>` + sets +
		`</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListResourceRecordSetsResponse>`
}

// wireProvider uses an SDK config that still has the SDK's default retryer,
// to prove New switches it off.
func wireProvider(t *testing.T, s *scripted, opts Options) *Provider {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}
	opts.Limiter = NewLimiter(1e6, 1e6, nil)
	opts.Sleep = func(context.Context, time.Duration) error { return nil }
	return New(cfg, opts)
}

func TestWireThrottlingRetriedOnlyByProvider(t *testing.T) {
	s := &scripted{answers: map[string][]reply{"POST rrset": {{400, errorXML("Throttling", "Rate exceeded")}}}}
	p := wireProvider(t, s, Options{MaxAttempts: 3})
	rs := dns.RecordSet{Name: "a.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}
	_, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{New: &rs}}})
	if err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Fatalf("err = %v, want Throttling", err)
	}
	// The SDK's standard retryer would have made 3 tries per provider attempt.
	if n := s.count("POST"); n != 3 {
		t.Fatalf("requests = %d, want exactly MaxAttempts (3)", n)
	}
}

func TestWirePriorRequestThenSuccess(t *testing.T) {
	s := &scripted{answers: map[string][]reply{"POST rrset": {
		{400, errorXML("PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.")},
		{200, changeOK},
	}}}
	p := wireProvider(t, s, Options{})
	old := dns.RecordSet{Name: "www.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}
	alias := dns.RecordSet{Name: "www.example.com", Type: "A", Alias: &dns.AliasTarget{ZoneID: AliasZoneForCloudFront, DNSName: "d1.cloudfront.net"}}
	id, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "/hostedzone/Z1", Changes: []dns.Change{{Old: &old, New: &alias}}})
	if err != nil || id != "C2682N5HXP0BZ4" {
		t.Fatalf("Apply = %q, %v", id, err)
	}
	if got := strings.TrimSuffix(s.seen[1], "/"); got != "POST /2013-04-01/hostedzone/Z1/rrset" {
		t.Errorf("request path = %q, want the bare zone id", s.seen[1])
	}
	body := s.bodies[1]
	del, cre := strings.Index(body, "<Action>DELETE</Action>"), strings.Index(body, "<Action>CREATE</Action>")
	if del < 0 || cre < del || strings.Contains(body, "UPSERT") {
		t.Errorf("body does not send DELETE then CREATE without UPSERT:\n%s", body)
	}
}

func TestWireConflictFromRoute53Wording(t *testing.T) {
	for name, answer := range map[string]string{
		"current form": errorXML("InvalidChangeBatch",
			"[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]"),
		"legacy form": `<?xml version="1.0"?><InvalidChangeBatch xmlns="` + r53NS + `"><Messages><Message>` +
			`Tried to delete resource record set [name='www.example.com.', type='A'] but it was not found` +
			`</Message></Messages><RequestId>r</RequestId></InvalidChangeBatch>`,
	} {
		t.Run(name, func(t *testing.T) {
			s := &scripted{answers: map[string][]reply{
				"POST rrset": {{400, answer}},
				"GET rrset": {{200, listXML(`<ResourceRecordSet><Name>www.example.com.</Name><Type>A</Type><TTL>60</TTL>` +
					`<ResourceRecords><ResourceRecord><Value>192.0.2.99</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>`)}},
			}}
			p := wireProvider(t, s, Options{})
			old := dns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.1"}}
			_, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{Old: &old}}})
			var ce *dns.ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a conflict", err)
			}
			if len(ce.Expected) != 1 || !ce.Expected[0].Equal(old) {
				t.Errorf("expected = %v", ce.Expected)
			}
			if len(ce.Actual) != 1 || ce.Actual[0].Values[0] != "192.0.2.99" {
				t.Errorf("actual = %v", ce.Actual)
			}
			var icb *types.InvalidChangeBatch
			if !errors.As(err, &icb) {
				t.Errorf("cause is not an InvalidChangeBatch: %v", ce.Cause)
			}
			if n := s.count("POST"); n != 1 {
				t.Errorf("a conflict was retried: %d requests", n)
			}
		})
	}
}

func TestWireListUnescapesAndStopsAtNextName(t *testing.T) {
	s := &scripted{answers: map[string][]reply{"GET rrset": {{200, `<?xml version="1.0"?><ListResourceRecordSetsResponse xmlns="` + r53NS + `"><ResourceRecordSets>` +
		`<ResourceRecordSet><Name>\052.example.com.</Name><Type>A</Type><AliasTarget><HostedZoneId>Z2FDTNDATAQYW2</HostedZoneId>` +
		`<DNSName>d1.cloudfront.net.</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></ResourceRecordSet>` +
		`</ResourceRecordSets><IsTruncated>true</IsTruncated><NextRecordName>a.example.com.</NextRecordName><NextRecordType>A</NextRecordType>` +
		`<MaxItems>1</MaxItems></ListResourceRecordSetsResponse>`}}}}
	p := wireProvider(t, s, Options{})
	rs, err := p.Records(context.Background(), "Z1", "*.example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := dns.RecordSet{Name: "*.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: AliasZoneForCloudFront, DNSName: "d1.cloudfront.net."}}
	if len(rs) != 1 || !rs[0].Equal(want) || rs[0].Name != want.Name {
		t.Fatalf("Records = %v, want [%v]", rs, want)
	}
	if n := s.count("GET"); n != 1 {
		t.Errorf("requests = %d; the next page belongs to another name", n)
	}
}
