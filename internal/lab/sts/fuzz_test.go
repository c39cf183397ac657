package sts

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

// FuzzQuery feeds arbitrary query-protocol bodies to the service: whatever
// arrives, the answer is a well-formed success or a 4xx, never a panic or a
// 5xx.
func FuzzQuery(f *testing.F) {
	f.Add("Action=GetCallerIdentity&Version=2011-06-15")
	f.Add("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2Fcutover-dns&RoleSessionName=s1&DurationSeconds=900")
	f.Add("Action=AssumeRole&RoleArn=arn:aws:iam::222222222222:role/path/partner&RoleSessionName=s1&ExternalId=")
	f.Add("Action=%zz&&=")
	f.Fuzz(func(t *testing.T, body string) {
		// A fresh service per input keeps executions independent.
		env := awsapi.NewEnv(fakeclock.New(time.Unix(0, 0)))
		svc := New(env, Options{Roles: []Role{
			{ARN: "arn:aws:iam::222222222222:role/cutover-dns", TrustedAccounts: []string{"*"}},
			{ARN: "arn:aws:iam::222222222222:role/path/partner", TrustedAccounts: []string{"111111111111"}, ExternalID: "abc"},
		}})
		awstest.NoServerFault(t, svc, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)), strconv.Quote(body))
	})
}
