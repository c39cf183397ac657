package acm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// fakeDNS is the lab's authoritative DNS as far as validation goes.
type fakeDNS struct {
	mu      sync.Mutex
	records map[string]string
	lookups int
}

func (d *fakeDNS) LookupCNAME(name string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lookups++
	v, ok := d.records[name]
	return v, ok
}

func (d *fakeDNS) set(name, value string) {
	d.mu.Lock()
	d.records[name] = value
	d.mu.Unlock()
}

type lab struct {
	clock *fakeclock.Clock
	env   awsapi.Env
	dns   *fakeDNS
	svc   *Service
	url   string
	inUse map[string][]string
	mu    sync.Mutex
}

// jsonErrors answers in ACM's JSON 1.1 error shape.
func jsonErrors(w http.ResponseWriter, err error) {
	awsapi.WriteJSONError(w, jsonContentType, false, err)
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{clock: fakeclock.New(t0), dns: &fakeDNS{records: map[string]string{}}, inUse: map[string][]string{}}
	l.env = awsapi.NewEnv(l.clock)
	l.svc = New(l.env, Options{DNS: l.dns, InUse: func(arn string) []string {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.inUse[arn]
	}})
	srv := httptest.NewServer(awstest.Authenticate(l.env, jsonErrors,
		awsapi.Errorf(http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"), l.svc))
	t.Cleanup(srv.Close)
	l.url = srv.URL
	return l
}

func (l *lab) client() *acm.Client { return acm.NewFromConfig(awstest.Config(l.url)) }

func (l *lab) otherClient() *acm.Client {
	return acm.NewFromConfig(awstest.ConfigAs(l.url, awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, ""))
}

func describe(t *testing.T, c *acm.Client, arn string) *types.CertificateDetail {
	t.Helper()
	out, err := c.DescribeCertificate(context.Background(), &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Certificate
}

func TestDNSValidationIssuesWhenEveryRecordResolves(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	c := l.client()
	out, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{
		DomainName:              aws.String("www.example.com"),
		SubjectAlternativeNames: []string{"*.shop.example.com", "shop.example.com"},
		ValidationMethod:        types.ValidationMethodDns,
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.CertificateArn)
	if !strings.HasPrefix(arn, "arn:aws:acm:us-east-1:111111111111:certificate/") || len(arn) != len("arn:aws:acm:us-east-1:111111111111:certificate/")+36 {
		t.Fatalf("arn = %s", arn)
	}

	d := describe(t, c, arn)
	if d.Status != types.CertificateStatusPendingValidation || d.NotBefore != nil || d.NotAfter != nil || d.Type != types.CertificateTypeAmazonIssued {
		t.Fatalf("new certificate: status %s notBefore %v type %s", d.Status, d.NotBefore, d.Type)
	}
	if got := strings.Join(d.SubjectAlternativeNames, ","); got != "www.example.com,*.shop.example.com,shop.example.com" {
		t.Fatalf("SANs = %s", got)
	}
	if len(d.DomainValidationOptions) != 3 {
		t.Fatalf("DVOs = %d", len(d.DomainValidationOptions))
	}
	records := map[string]string{}
	for _, dvo := range d.DomainValidationOptions {
		rr := dvo.ResourceRecord
		if rr == nil || rr.Type != types.RecordTypeCname || dvo.ValidationStatus != types.DomainStatusPendingValidation || dvo.ValidationMethod != types.ValidationMethodDns {
			t.Fatalf("dvo %+v", dvo)
		}
		base := strings.TrimPrefix(aws.ToString(dvo.DomainName), "*.")
		name, value := aws.ToString(rr.Name), aws.ToString(rr.Value)
		if !strings.HasPrefix(name, "_") || !strings.HasSuffix(name, "."+base+".") || len(name) != 1+32+1+len(base)+1 {
			t.Fatalf("record name %s for %s", name, base)
		}
		if !strings.HasPrefix(value, "_") || !strings.HasSuffix(value, ".acm-validations.aws.") {
			t.Fatalf("record value %s", value)
		}
		records[name] = value
	}
	// The wildcard and its base name share one record.
	if len(records) != 2 {
		t.Fatalf("distinct records = %v", records)
	}

	// A wrong value proves nothing.
	for name := range records {
		l.dns.set(name, "_0000.acm-validations.aws.")
	}
	if d := describe(t, c, arn); d.Status != types.CertificateStatusPendingValidation {
		t.Fatalf("wrong values: status %s", d.Status)
	}

	// One name right: that domain succeeds, the certificate waits.
	wwwRR := ValidationRecord(awsapi.DefaultAccountID, "www.example.com")
	l.dns.set(wwwRR.Name, strings.TrimSuffix(wwwRR.Value, ".")) // without the trailing dot
	d = describe(t, c, arn)
	if d.Status != types.CertificateStatusPendingValidation || d.DomainValidationOptions[0].ValidationStatus != types.DomainStatusSuccess || d.DomainValidationOptions[1].ValidationStatus != types.DomainStatusPendingValidation {
		t.Fatalf("partial: status %s, dvo0 %s, dvo1 %s", d.Status, d.DomainValidationOptions[0].ValidationStatus, d.DomainValidationOptions[1].ValidationStatus)
	}

	l.clock.Advance(10 * time.Minute)
	for name, value := range records {
		l.dns.set(name, value)
	}
	d = describe(t, c, arn)
	if d.Status != types.CertificateStatusIssued {
		t.Fatalf("all records served: status %s", d.Status)
	}
	issued := t0.Add(10 * time.Minute)
	if !aws.ToTime(d.NotBefore).Equal(issued) || !aws.ToTime(d.IssuedAt).Equal(issued) || !aws.ToTime(d.NotAfter).Equal(issued.Add(DefaultValidity)) {
		t.Fatalf("validity %v – %v (issued %v)", d.NotBefore, d.NotAfter, d.IssuedAt)
	}
	for _, dvo := range d.DomainValidationOptions {
		if dvo.ValidationStatus != types.DomainStatusSuccess {
			t.Fatalf("dvo %s: %s", aws.ToString(dvo.DomainName), dvo.ValidationStatus)
		}
	}
	// Once issued, the DNS record may go: the certificate stays issued.
	l.dns.mu.Lock()
	l.dns.records = map[string]string{}
	l.dns.mu.Unlock()
	if info, ok := l.svc.Certificate(arn); !ok || info.Status != StatusIssued || len(info.Domains) != 3 || len(info.Validation) != 2 {
		t.Fatalf("Certificate() = %+v %v", info, ok)
	}
	// Reads record nothing: one accepted write in all.
	if h := l.env.History.List(awsapi.Filter{Service: "acm"}); len(h) != 1 || h[0].Operation != "RequestCertificate" || h[0].Resource != arn || h[0].Before != nil {
		t.Fatalf("history = %+v", h)
	}
}

func TestValidationTimesOut(t *testing.T) {
	l := newLab(t)
	arn, err := l.client().RequestCertificate(context.Background(), &acm.RequestCertificateInput{DomainName: aws.String("late.example.com"), ValidationMethod: types.ValidationMethodDns})
	if err != nil {
		t.Fatal(err)
	}
	l.clock.Advance(DefaultValidationTimeout - time.Second)
	if info, _ := l.svc.Certificate(aws.ToString(arn.CertificateArn)); info.Status != StatusPendingValidation {
		t.Fatalf("before timeout: %s", info.Status)
	}
	l.clock.Advance(time.Second)
	rr := ValidationRecord(awsapi.DefaultAccountID, "late.example.com")
	l.dns.set(rr.Name, rr.Value) // too late
	d := describe(t, l.client(), aws.ToString(arn.CertificateArn))
	if d.Status != types.CertificateStatusValidationTimedOut || d.DomainValidationOptions[0].ValidationStatus != types.DomainStatusFailed {
		t.Fatalf("after timeout: %s / %s", d.Status, d.DomainValidationOptions[0].ValidationStatus)
	}
}

func TestEmailValidationNeverIssuesInTheLab(t *testing.T) {
	l := newLab(t)
	out, err := l.client().RequestCertificate(context.Background(), &acm.RequestCertificateInput{DomainName: aws.String("mail.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	d := describe(t, l.client(), aws.ToString(out.CertificateArn))
	if d.DomainValidationOptions[0].ValidationMethod != types.ValidationMethodEmail || d.DomainValidationOptions[0].ResourceRecord != nil || len(d.DomainValidationOptions[0].ValidationEmails) == 0 {
		t.Fatalf("email dvo = %+v", d.DomainValidationOptions[0])
	}
	if l.dns.lookups != 0 {
		t.Fatalf("email validation looked up DNS %d times", l.dns.lookups)
	}
}

func TestIdempotencyToken(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	in := &acm.RequestCertificateInput{DomainName: aws.String("idem.example.com"), ValidationMethod: types.ValidationMethodDns, IdempotencyToken: aws.String("run42")}
	a, err := l.client().RequestCertificate(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.client().RequestCertificate(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.CertificateArn) != aws.ToString(b.CertificateArn) {
		t.Fatalf("same token, different certificates: %s %s", aws.ToString(a.CertificateArn), aws.ToString(b.CertificateArn))
	}
	l.clock.Advance(time.Hour)
	c, err := l.client().RequestCertificate(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(c.CertificateArn) == aws.ToString(a.CertificateArn) {
		t.Fatal("token honoured after an hour")
	}
	if n := len(l.env.History.List(awsapi.Filter{Service: "acm"})); n != 2 {
		t.Fatalf("history entries = %d, want 2", n)
	}
}

func TestListCertificatesFiltersAndPages(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	var arns []string
	for _, d := range []string{"a.example.com", "b.example.com", "c.example.com", "d.example.com"} {
		out, err := l.client().RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String(d), ValidationMethod: types.ValidationMethodDns})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.CertificateArn))
	}
	issuedARN := l.svc.Import(awsapi.DefaultAccountID, []string{"seeded.example.com", "*.seeded.example.com"})
	l.svc.Import(awsapi.OtherAccountID, []string{"other.example.com"})

	p := acm.NewListCertificatesPaginator(l.client(), &acm.ListCertificatesInput{MaxItems: aws.Int32(2)})
	var got []string
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range page.CertificateSummaryList {
			got = append(got, aws.ToString(s.CertificateArn))
		}
	}
	want := append(append([]string(nil), arns...), issuedARN)
	if pages != 3 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("%d pages: %v\nwant %v", pages, got, want)
	}

	out, err := l.client().ListCertificates(ctx, &acm.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusIssued}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CertificateSummaryList) != 1 || aws.ToString(out.CertificateSummaryList[0].CertificateArn) != issuedARN || out.CertificateSummaryList[0].Status != types.CertificateStatusIssued {
		t.Fatalf("issued filter = %+v", out.CertificateSummaryList)
	}
	if got := strings.Join(out.CertificateSummaryList[0].SubjectAlternativeNameSummaries, ","); got != "seeded.example.com,*.seeded.example.com" {
		t.Fatalf("SAN summaries = %s", got)
	}

	other, err := l.otherClient().ListCertificates(ctx, &acm.ListCertificatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(other.CertificateSummaryList) != 1 || aws.ToString(other.CertificateSummaryList[0].DomainName) != "other.example.com" {
		t.Fatalf("other account sees %+v", other.CertificateSummaryList)
	}

	_, err = l.client().ListCertificates(ctx, &acm.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{"SHINY"}})
	awstest.APIError(t, err, "ValidationException", "")
	_, err = l.client().ListCertificates(ctx, &acm.ListCertificatesInput{NextToken: aws.String("garbage")})
	awstest.APIError(t, err, "InvalidArgsException", "The NextToken is not valid.")
}

func TestDeleteCertificate(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	arn := l.svc.Import(awsapi.DefaultAccountID, []string{"del.example.com"})
	l.mu.Lock()
	l.inUse[arn] = []string{"arn:aws:cloudfront::111111111111:distribution/E2EXAMPLE"}
	l.mu.Unlock()

	if d := describe(t, l.client(), arn); len(d.InUseBy) != 1 || d.InUseBy[0] != "arn:aws:cloudfront::111111111111:distribution/E2EXAMPLE" {
		t.Fatalf("InUseBy = %v", d.InUseBy)
	}
	_, err := l.client().DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(arn)})
	awstest.APIError(t, err, "ResourceInUseException", "Certificate "+arn+" is in use.")
	_, err = l.otherClient().DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(arn)})
	awstest.APIError(t, err, "AccessDeniedException", "User: arn:aws:iam::222222222222:user/lab-admin is not authorized to perform: acm:DeleteCertificate on resource: "+arn)
	if n := len(l.env.History.List(awsapi.Filter{})); n != 0 {
		t.Fatalf("refused deletes recorded %d entries", n)
	}

	l.mu.Lock()
	delete(l.inUse, arn)
	l.mu.Unlock()
	if _, err := l.client().DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = l.client().DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	awstest.APIError(t, err, "ResourceNotFoundException", "Could not find certificate "+arn+".")
	h := l.env.History.List(awsapi.Filter{Service: "acm"})
	if len(h) != 1 || h[0].Operation != "DeleteCertificate" || h[0].Before == nil || h[0].After != nil {
		t.Fatalf("history = %+v", h)
	}
}

func TestRequestErrors(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	_, err := l.client().RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("localhost")})
	awstest.APIError(t, err, "ValidationException", "1 validation error detected: Value 'localhost' at 'domainName' failed to satisfy constraint: Member must satisfy regular expression pattern: "+domainPattern)
	_, err = l.client().RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("ok.example.com"), SubjectAlternativeNames: []string{"bad..example.com"}})
	awstest.APIError(t, err, "ValidationException", "")
	var many []string
	for i := 0; i < 10; i++ {
		many = append(many, string(rune('a'+i))+".example.com")
	}
	_, err = l.client().RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("x.example.com"), SubjectAlternativeNames: many})
	awstest.APIError(t, err, "LimitExceededException", "Cannot request a certificate with more than 10 domain names.")
	_, err = l.client().DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String("not-an-arn-but-long-enough")})
	awstest.APIError(t, err, "InvalidArnException", "String 'not-an-arn-but-long-enough' is not a valid ARN.")
	_, err = l.client().DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String("short")})
	awstest.APIError(t, err, "ValidationException", "1 validation error detected: Value 'short' at 'certificateArn' failed to satisfy constraint: Member must have length greater than or equal to 20")
	if n := len(l.env.History.List(awsapi.Filter{})); n != 0 {
		t.Fatalf("refused requests recorded %d entries", n)
	}
}

func TestTags(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	arn := l.svc.Import(awsapi.DefaultAccountID, []string{"tag.example.com"})
	if _, err := l.client().AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("edge")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := l.client().ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "owner" || aws.ToString(out.Tags[0].Value) != "edge" {
		t.Fatalf("tags = %+v", out.Tags)
	}
}

func TestRegionScoping(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	cfg := awstest.Config(l.url)
	cfg.Region = "eu-west-1"
	eu := acm.NewFromConfig(cfg)
	out, err := eu.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("eu.example.com"), ValidationMethod: types.ValidationMethodDns})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(out.CertificateArn), "arn:aws:acm:eu-west-1:111111111111:certificate/") {
		t.Fatalf("arn = %s", aws.ToString(out.CertificateArn))
	}
	_, err = l.client().DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: out.CertificateArn})
	awstest.APIError(t, err, "ResourceNotFoundException", "")
}

func TestSnapshotRestore(t *testing.T) {
	l := newLab(t)
	arn := l.svc.Import(awsapi.DefaultAccountID, []string{"snap.example.com"})
	pending, err := l.client().RequestCertificate(context.Background(), &acm.RequestCertificateInput{DomainName: aws.String("p.example.com"), ValidationMethod: types.ValidationMethodDns})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := l.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	dns := &fakeDNS{records: map[string]string{}}
	svc2 := New(awsapi.NewEnv(l.clock), Options{DNS: dns})
	if err := svc2.Restore(raw); err != nil {
		t.Fatal(err)
	}
	if info, ok := svc2.Certificate(arn); !ok || info.Status != StatusIssued || info.Domains[0] != "snap.example.com" {
		t.Fatalf("restored = %+v %v", info, ok)
	}
	rr := ValidationRecord(awsapi.DefaultAccountID, "p.example.com")
	dns.set(rr.Name, rr.Value)
	if info, _ := svc2.Certificate(aws.ToString(pending.CertificateArn)); info.Status != StatusIssued {
		t.Fatalf("restored pending certificate did not validate: %s", info.Status)
	}
	if got := svc2.Certificates(); len(got) != 2 || got[0] != arn {
		t.Fatalf("order after restore = %v", got)
	}
	if err := svc2.Restore(json.RawMessage(`{"certificates":[{"arn":"x"}]}`)); err == nil {
		t.Fatal("restore accepted a bad ARN")
	}
}

func TestProtocolErrors(t *testing.T) {
	l := newLab(t)
	for _, tc := range []struct{ target, body, code string }{
		{"CertificateManager.DescribeCertificate", `{"CertificateArn":`, "SerializationException"},
		{"CertificateManager.DescribeCertificate", `{"CertificateArn":42}`, "SerializationException"},
		{"CertificateManager.ExplodeCertificate", `{}`, "UnknownOperationException"},
		{"Route53.ListHostedZones", `{}`, "UnknownOperationException"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
		req.Header.Set("X-Amz-Target", tc.target)
		l.svc.ServeHTTP(rec, req)
		var body map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != http.StatusBadRequest || body["__type"] != tc.code {
			t.Fatalf("%s %s: %d %s", tc.target, tc.body, rec.Code, rec.Body.String())
		}
	}
}

func TestCLI(t *testing.T) {
	l := newLab(t)
	res := awstest.CLI(t, l.url, "acm", "request-certificate", "--domain-name", "cli.example.com", "--subject-alternative-names", "www.cli.example.com", "--validation-method", "DNS")
	if res.ExitCode != 0 {
		t.Fatalf("request-certificate: %d %s", res.ExitCode, res.Stderr)
	}
	var req struct{ CertificateArn string }
	if err := json.Unmarshal([]byte(res.Stdout), &req); err != nil || !strings.HasPrefix(req.CertificateArn, "arn:aws:acm:us-east-1:111111111111:certificate/") {
		t.Fatalf("request-certificate output %q: %v", res.Stdout, err)
	}
	for _, d := range []string{"cli.example.com", "www.cli.example.com"} {
		rr := ValidationRecord(awsapi.DefaultAccountID, d)
		l.dns.set(rr.Name, rr.Value)
	}
	res = awstest.CLI(t, l.url, "acm", "describe-certificate", "--certificate-arn", req.CertificateArn)
	if res.ExitCode != 0 {
		t.Fatalf("describe-certificate: %d %s", res.ExitCode, res.Stderr)
	}
	var desc struct {
		Certificate struct {
			Status                  string
			SubjectAlternativeNames []string
			NotAfter                float64
			DomainValidationOptions []struct {
				DomainName, ValidationStatus string
				ResourceRecord               struct{ Name, Type, Value string }
			}
		}
	}
	if err := json.Unmarshal([]byte(res.Stdout), &desc); err != nil {
		t.Fatalf("%v: %s", err, res.Stdout)
	}
	cd := desc.Certificate
	if cd.Status != "ISSUED" || len(cd.SubjectAlternativeNames) != 2 || cd.NotAfter == 0 || len(cd.DomainValidationOptions) != 2 ||
		cd.DomainValidationOptions[1].ValidationStatus != "SUCCESS" || cd.DomainValidationOptions[1].ResourceRecord.Name != ValidationRecord(awsapi.DefaultAccountID, "www.cli.example.com").Name {
		t.Fatalf("describe-certificate = %+v", cd)
	}

	missing := "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000000"
	res = awstest.CLI(t, l.url, "acm", "describe-certificate", "--certificate-arn", missing)
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "An error occurred (ResourceNotFoundException) when calling the DescribeCertificate operation") || !strings.Contains(res.Stderr, "Could not find certificate "+missing+".") {
		t.Fatalf("describe missing: %d %s", res.ExitCode, res.Stderr)
	}
	res = awstest.CLI(t, l.url, "acm", "request-certificate", "--domain-name", "nodots")
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "(ValidationException)") {
		t.Fatalf("request invalid: %d %s", res.ExitCode, res.Stderr)
	}
}
