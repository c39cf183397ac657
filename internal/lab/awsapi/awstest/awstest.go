// Package awstest helps conformance tests drive a lab service through the
// real clients: aws-sdk-go-v2 and the aws CLI.
package awstest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Config returns an aws.Config that sends every service to endpoint with the
// default lab account's static key and no retries, so a test sees each
// error exactly as the lab answered it.
func Config(endpoint string) aws.Config {
	return ConfigAs(endpoint, awsapi.DefaultAccessKeyID, awsapi.DefaultSecretAccessKey, "")
}

// ConfigAs is Config with explicit credentials.
func ConfigAs(endpoint, akid, secret, token string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, token),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// SetEnv points the AWS SDK's default configuration chain at endpoint for
// the rest of the test: the default lab account's static key, us-east-1, no
// shared config or credentials file and no profile, so that code which
// loads its configuration as a user's would (config.LoadDefaultConfig, the
// cutover commands) reaches the lab and nothing else.
func SetEnv(t testing.TB, endpoint string) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": awsapi.DefaultAccessKeyID, "AWS_SECRET_ACCESS_KEY": awsapi.DefaultSecretAccessKey,
		"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
	// Set above so that the test restores it, then unset: no profile named.
	os.Unsetenv("AWS_PROFILE")
}

// RequirePeersEnv is the environment variable with which a test run demands
// its external peers: `make test` sets it to 1, so that a developer's run of
// the suite fails, as CI's does, instead of skipping what it cannot drive.
const RequirePeersEnv = "CUTOVER_REQUIRE_PEERS"

// PeersRequired tells whether a missing external dependency fails the test
// (CI=true, or CUTOVER_REQUIRE_PEERS=1 as `make test` sets) rather than
// skipping it.
func PeersRequired() bool {
	return os.Getenv("CI") == "true" || os.Getenv(RequirePeersEnv) == "1"
}

// Required reports a missing external dependency: it fails the test when
// PeersRequired, and otherwise skips it, saying that `make test` would not.
func Required(t testing.TB, what string) {
	t.Helper()
	if PeersRequired() {
		t.Fatalf("%s is required (CI=true or %s=1, as `make test` sets); install it with `make deps`", what, RequirePeersEnv)
	}
	t.Skipf("%s not available, test skipped (`make test` requires it); install it with `make deps`", what)
}

// CLIResult is the outcome of one aws CLI invocation.
type CLIResult struct {
	Stdout, Stderr string
	ExitCode       int
}

// CLI runs `aws --endpoint-url endpoint --output json args...` with the lab's
// default credentials. When aws is missing it fails or skips the test, as
// Required decides.
func CLI(t testing.TB, endpoint string, args ...string) CLIResult {
	t.Helper()
	return CLIEnv(t, endpoint, nil, args...)
}

// CLIEnv is CLI with extra KEY=value environment entries, which override the
// defaults CLI sets (for example AWS_RETRY_MODE=legacy, whose error lines
// carry no "(reached max retries: 0)" note).
func CLIEnv(t testing.TB, endpoint string, extra []string, args ...string) CLIResult {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		Required(t, "the aws CLI")
	}
	full := append([]string{"--endpoint-url", endpoint, "--output", "json", "--region", "us-east-1"}, args...)
	cmd := exec.CommandContext(context.Background(), bin, full...)
	// Drop every AWS_ variable of the caller's environment (an empty
	// AWS_PROFILE is itself an error to the CLI), then set the lab's.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"AWS_ACCESS_KEY_ID="+awsapi.DefaultAccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+awsapi.DefaultSecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_RETRY_MODE=standard",
		// awscli v2 pipes output through a pager by default; the test
		// reads stdout directly.
		"AWS_PAGER=",
	)
	// exec keeps the last value of a repeated key, so extra wins.
	cmd.Env = append(cmd.Env, extra...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	res := CLIResult{Stdout: so.String(), Stderr: se.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running aws %v: %v", args, err)
	}
	return res
}

// ErrMissingToken is what the lab server answers an unsigned request with.
var ErrMissingToken = awsapi.ErrMissingToken

// Authenticate wraps next in what the lab server does before every service:
// the SigV4 credential scope names the access key, the keyring names the
// caller, and the caller's identity goes into the request context. A key
// the keyring refuses is answered through writeErr, in the service's own
// protocol. An unsigned request is answered with missing through writeErr
// or, when missing is nil, served without an identity, for tests that post
// hand-made requests.
func Authenticate(env awsapi.Env, writeErr func(http.ResponseWriter, error), missing error, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, signed := awsapi.ParseScope(r); !signed && missing == nil {
			next.ServeHTTP(w, r) // the service's own default identity
			return
		}
		authed, err := env.Keys.Authenticate(r)
		if err != nil {
			if err == awsapi.ErrMissingToken {
				writeErr(w, missing)
			} else {
				writeErr(w, err)
			}
			return
		}
		next.ServeHTTP(w, authed)
	})
}

// XMLErrors returns a writeErr for Authenticate that answers in the
// ErrorResponse envelope of namespace (empty for the query services that
// send none).
func XMLErrors(namespace string) func(http.ResponseWriter, error) {
	return func(w http.ResponseWriter, err error) { awsapi.WriteXMLError(w, namespace, err) }
}

// APIError fails the test unless err is an API error with code and, when
// message is not empty, exactly message.
func APIError(t testing.TB, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s API error, got %v", code, err)
	}
	if ae.ErrorCode() != code || (message != "" && ae.ErrorMessage() != message) {
		t.Fatalf("got %s: %s\nwant %s: %s", ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
}

// NoServerFault serves req with h and fails the test when the answer is a
// 5xx: whatever a client sends, a lab service answers with a success or a
// client error. input names the request in the failure message.
func NoServerFault(t testing.TB, h http.Handler, req *http.Request, input string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s: status %d: %s", input, rec.Code, rec.Body.String())
	}
}
