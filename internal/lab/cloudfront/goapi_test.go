package cloudfront

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
)

func TestGoAPIResolveAndSeedPath(t *testing.T) {
	l := newLab(t)
	origins := []Origin{{ID: "o", DomainName: "origin.test", HTTPPort: 8080, HTTPSPort: 8443, ProtocolPolicy: "http-only"}}
	exact, err := l.svc.CreateDistributionFor(awsapi.DefaultAccountID, DistributionInput{CallerReference: "exact", Enabled: true, Aliases: []string{"www.example.com"}, Origins: origins, CertificateArn: certA})
	if err != nil {
		t.Fatal(err)
	}
	wild, err := l.svc.CreateDistributionFor(awsapi.OtherAccountID, DistributionInput{CallerReference: "wild", Enabled: true, Aliases: []string{"*.example.com"}, Origins: origins, CertificateArn: certB})
	if err != nil {
		t.Fatal(err)
	}
	deeper, err := l.svc.CreateDistributionFor(awsapi.DefaultAccountID, DistributionInput{CallerReference: "deeper", Enabled: true, Aliases: []string{"*.shop.example.com"}, Origins: origins,
		CertificateArn: certA})
	if err == nil {
		t.Fatalf("certificate *.example.com must not cover *.shop.example.com: %+v", deeper)
	}
	// The Go API goes through the same rules as HTTP.
	if _, err := l.svc.CreateDistributionFor(awsapi.OtherAccountID, DistributionInput{CallerReference: "dup", Enabled: true, Aliases: []string{"www.example.com"}, Origins: origins, CertificateArn: certB}); awsapi.AsError(err).Code != "CNAMEAlreadyExists" {
		t.Fatalf("want CNAMEAlreadyExists, got %v", err)
	}
	if exact.Origins[0].HTTPPort != 8080 || exact.Origins[0].ProtocolPolicy != "http-only" || exact.AccountID != awsapi.DefaultAccountID || exact.Version != 1 {
		t.Fatalf("view %+v", exact)
	}
	cases := map[string]string{
		"www.example.com":               exact.ID,
		"WWW.Example.com.":              exact.ID,
		"www.example.com:443":           exact.ID,
		"api.example.com":               wild.ID,
		"a.b.example.com":               wild.ID,
		exact.DomainName:                exact.ID,
		"example.com":                   "",
		"www.example.org":               "",
		"d0000000000000.cloudfront.net": "",
	}
	for host, want := range cases {
		v, ok := l.svc.Resolve(host)
		if (want == "") == ok || v.ID != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", host, v.ID, ok, want)
		}
	}
	if n := len(l.svc.List()); n != 2 {
		t.Fatalf("List has %d distributions", n)
	}
	l.clock.Advance(DefaultDeployDelay)
	if v, _ := l.svc.Get(exact.ID); v.Status != "Deployed" {
		t.Fatalf("status evaluated lazily on the clock: %s", v.Status)
	}
}

func TestDeployJitterStaysInRange(t *testing.T) {
	clock := fakeclock.New(t0)
	svc := New(awsapi.NewEnv(clock), Options{DeployDelay: 10 * time.Second, DeployJitter: 5 * time.Second, Seed: 7})
	for i := range 20 {
		v, err := svc.CreateDistributionFor(awsapi.DefaultAccountID, DistributionInput{CallerReference: string(rune('a' + i)), Origins: []Origin{{ID: "o", DomainName: "o.test"}}})
		if err != nil {
			t.Fatal(err)
		}
		if d := v.DeployedAt.Sub(t0); d < 10*time.Second || d >= 15*time.Second {
			t.Fatalf("deploy delay %v outside [10s, 15s)", d)
		}
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	l := newLab(t)
	a := l.create(t, l.cf, sdkConfig("a", certA, true, "www.example.com"))
	raw, err := l.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	fresh := New(awsapi.NewEnv(l.clock), Options{Certificates: l.certs})
	if err := fresh.Restore(raw); err != nil {
		t.Fatal(err)
	}
	v, ok := fresh.Get(*a.Distribution.Id)
	orig, _ := l.svc.Get(*a.Distribution.Id)
	vb, _ := json.Marshal(v)
	ob, _ := json.Marshal(orig)
	if !ok || string(vb) != string(ob) {
		t.Fatalf("restored view differs:\n%s\n%s", vb, ob)
	}
	// The restored alias is still owned.
	if _, err := fresh.CreateDistributionFor(awsapi.DefaultAccountID, DistributionInput{CallerReference: "b", Aliases: []string{"www.example.com"}, Origins: []Origin{{ID: "o", DomainName: "o.test"}}, CertificateArn: certA}); awsapi.AsError(err).Code != "CNAMEAlreadyExists" {
		t.Fatalf("restored state lost alias ownership: %v", err)
	}
	if err := fresh.Restore(json.RawMessage(`{"distributions":[{"id":"E1","config":"<DistributionConfig><broken"}]}`)); err == nil {
		t.Fatalf("restore accepted a malformed config")
	}
}

func rawDo(t *testing.T, l *lab, method, path, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, l.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMalformedRequestsGetAWSErrors(t *testing.T) {
	l := newLab(t)
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"empty body", "POST", "/2020-05-31/distribution", "", 400, "MissingBody"},
		{"not xml", "POST", "/2020-05-31/distribution", "{json}", 400, "MalformedInput"},
		{"truncated", "POST", "/2020-05-31/distribution", "<DistributionConfig><CallerReference>x", 400, "MalformedInput"},
		{"wrong root", "POST", "/2020-05-31/distribution", "<Foo/>", 400, "MalformedInput"},
		{"doctype", "POST", "/2020-05-31/distribution", `<!DOCTYPE x [<!ENTITY a "b">]><DistributionConfig/>`, 400, "MalformedInput"},
		{"bad bool", "POST", "/2020-05-31/distribution", strings.Replace(rawConfigXML("r", ""), "<Enabled>true", "<Enabled>yes", 1), 400, "MalformedInput"},
		{"bad quantity", "POST", "/2020-05-31/distribution", strings.Replace(rawConfigXML("r", ""), "<Quantity>1</Quantity>", "<Quantity>one</Quantity>", 1), 400, "MalformedInput"},
		{"missing caller reference", "POST", "/2020-05-31/distribution", strings.Replace(rawConfigXML("", ""), "<CallerReference></CallerReference>", "", 1), 400, "InvalidArgument"},
		{"unknown path", "GET", "/2020-05-31/nothing", "", 404, "UnknownOperationException"},
		{"bad max items", "GET", "/2020-05-31/distribution?MaxItems=x", "", 400, "InvalidArgument"},
		{"policy empty", "POST", "/2020-05-31/continuous-deployment-policy", "<ContinuousDeploymentPolicyConfig/>", 400, "InvalidArgument"},
		{"copy wrong root", "POST", "/2020-05-31/distribution/EX/copy", "<X/>", 400, "MalformedInput"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := rawDo(t, l, c.method, c.path, c.body, nil)
			if status != c.status || !strings.Contains(body, "<Code>"+c.code+"</Code>") || !strings.Contains(body, `<ErrorResponse xmlns="`+Namespace+`">`) {
				t.Fatalf("status %d body %s", status, body)
			}
		})
	}
	// A raw, valid document is accepted and its unknown members kept.
	status, body := rawDo(t, l, "POST", "/2020-05-31/distribution", rawConfigXML("raw", "<FutureMember><X>1</X></FutureMember>"), nil)
	if status != 201 || !strings.Contains(body, "<FutureMember><X>1</X></FutureMember>") {
		t.Fatalf("status %d body %s", status, body)
	}
	if len(l.env.History.List(awsapi.Filter{})) != 1 {
		t.Fatalf("only the accepted create may be recorded")
	}
}

// Concurrent creates racing for one alias: exactly one wins.
func TestConcurrentCreatesOneAliasOneWinner(t *testing.T) {
	l := newLab(t)
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			_, err := l.svc.CreateDistributionFor(awsapi.DefaultAccountID, DistributionInput{CallerReference: string(rune('a' + i)), Enabled: true,
				Aliases: []string{"www.example.com"}, Origins: []Origin{{ID: "o", DomainName: "o.test"}}, CertificateArn: certA})
			l.svc.Resolve("www.example.com")
			errs <- err
		}()
	}
	ok := 0
	for range 16 {
		if err := <-errs; err == nil {
			ok++
		} else if awsapi.AsError(err).Code != "CNAMEAlreadyExists" {
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 || len(l.svc.List()) != 1 {
		t.Fatalf("%d creates won, %d distributions exist", ok, len(l.svc.List()))
	}
}
