package acm

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

type staticDNS map[string]string

func (d staticDNS) LookupCNAME(name string) (string, bool) { v, ok := d[name]; return v, ok }

// FuzzRequest feeds arbitrary JSON 1.1 requests to the service: the answer
// is a success or a 4xx, never a panic or a 5xx.
func FuzzRequest(f *testing.F) {
	f.Add("RequestCertificate", `{"DomainName":"www.example.com","SubjectAlternativeNames":["*.example.com"],"ValidationMethod":"DNS","IdempotencyToken":"abc"}`)
	f.Add("DescribeCertificate", `{"CertificateArn":"arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000000"}`)
	f.Add("ListCertificates", `{"CertificateStatuses":["ISSUED"],"MaxItems":1,"NextToken":"lab-acm-00000000000000000001"}`)
	f.Add("DeleteCertificate", `{"CertificateArn":"x"}`)
	f.Add("AddTagsToCertificate", `{"CertificateArn":"arn:aws:acm:us-east-1:111111111111:certificate/abc","Tags":[{"Key":""}]}`)
	f.Add("ListTagsForCertificate", `[]`)
	f.Fuzz(func(t *testing.T, op, body string) {
		// A fresh service per input keeps executions independent and fast.
		env := awsapi.NewEnv(fakeclock.New(time.Unix(0, 0)))
		svc := New(env, Options{DNS: staticDNS{}})
		svc.Import(awsapi.DefaultAccountID, []string{"seed.example.com"})
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "CertificateManager."+op)
		awstest.NoServerFault(t, svc, req, fmt.Sprintf("%s %q", op, body))
	})
}
