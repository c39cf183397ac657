// Package awstest helps conformance tests drive a lab service through the
// real clients: aws-sdk-go-v2 and the aws CLI.
package awstest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

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

// Required reports a missing external dependency: with CI=true it fails the
// test, otherwise it skips it.
func Required(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required (CI=true); install it with `make deps`", what)
	}
	t.Skipf("%s not available; install it with `make deps`", what)
}

// CLIResult is the outcome of one aws CLI invocation.
type CLIResult struct {
	Stdout, Stderr string
	ExitCode       int
}

// CLI runs `aws --endpoint-url endpoint --output json args...` with the lab's
// default credentials. It fails (CI) or skips the test when aws is missing.
func CLI(t testing.TB, endpoint string, args ...string) CLIResult {
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
	)
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
