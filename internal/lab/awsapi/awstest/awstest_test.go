package awstest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
)

func signedAs(akid string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	if akid != "" {
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+akid+"/20261122/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
	}
	return r
}

func TestAuthenticate(t *testing.T) {
	env := awsapi.NewEnv(fakeclock.New(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)))
	var seen []string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, awsapi.IdentityFrom(r.Context()).AccountID)
	})
	strict := Authenticate(env, XMLErrors("urn:test"), ErrMissingToken, next)
	lenient := Authenticate(env, XMLErrors(""), nil, next)

	rec := httptest.NewRecorder()
	strict.ServeHTTP(rec, signedAs(awsapi.OtherAccessKeyID))
	if rec.Code != http.StatusOK || len(seen) != 1 || seen[0] != awsapi.OtherAccountID {
		t.Fatalf("signed: %d, saw %v", rec.Code, seen)
	}

	rec = httptest.NewRecorder()
	strict.ServeHTTP(rec, signedAs(""))
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "<Code>MissingAuthenticationToken</Code>") ||
		!strings.Contains(rec.Body.String(), `xmlns="urn:test"`) || len(seen) != 1 {
		t.Fatalf("unsigned, strict: %d %s", rec.Code, rec.Body)
	}

	rec = httptest.NewRecorder()
	lenient.ServeHTTP(rec, signedAs(""))
	if rec.Code != http.StatusOK || len(seen) != 2 {
		t.Fatalf("unsigned, lenient: %d, saw %v", rec.Code, seen)
	}

	rec = httptest.NewRecorder()
	lenient.ServeHTTP(rec, signedAs("AKIAUNKNOWN000000000"))
	if rec.Code < 400 || rec.Code >= 500 || !strings.Contains(rec.Body.String(), "<ErrorResponse>") || len(seen) != 2 {
		t.Fatalf("unknown key: %d %s", rec.Code, rec.Body)
	}
}
