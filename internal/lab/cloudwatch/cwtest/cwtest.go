package cwtest

import (
	"net/http/httptest"
	"testing"
	"time"

	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/cloudwatch"
)

// Lab is one lab CloudWatch behind the lab server's identity middleware.
type Lab struct {
	// Service is the emulator; tests publish metrics through its Go API.
	Service *cloudwatch.Service
	// Clock is the emulator's clock; it starts at the time Start was given.
	Clock *fakeclock.Clock
	// URL is the HTTP endpoint.
	URL string
	// Client is an SDK client signed with the default lab account's key.
	Client *cw.Client
}

// Start serves a fresh, empty CloudWatch whose clock reads now, and stops
// it when the test ends.
func Start(t testing.TB, now time.Time) *Lab {
	t.Helper()
	clock := fakeclock.New(now)
	env := awsapi.NewEnv(clock)
	svc := cloudwatch.New(env, cloudwatch.Options{})
	srv := httptest.NewServer(awstest.Authenticate(env, awstest.XMLErrors(""), nil, svc))
	t.Cleanup(srv.Close)
	return &Lab{Service: svc, Clock: clock, URL: srv.URL, Client: cw.NewFromConfig(awstest.Config(srv.URL))}
}
