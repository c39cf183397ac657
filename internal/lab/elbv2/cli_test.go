package elbv2

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// runCLI runs the aws CLI against the lab with the default account's key.
// It mirrors awstest.CLI but leaves AWS_PROFILE unset instead of empty:
// awscli 1.x treats an empty AWS_PROFILE as a profile named "" and exits
// with "The config profile () could not be found".
func runCLI(t *testing.T, endpoint string, args ...string) awstest.CLIResult {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		awstest.Required(t, "the aws CLI")
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+awsapi.DefaultAccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+awsapi.DefaultSecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_RETRY_MODE=standard",
		"AWS_PAGER=",
	)
	cmd := exec.Command(bin, append([]string{"--endpoint-url", endpoint, "--output", "json", "--region", "us-east-1"}, args...)...)
	cmd.Env = env
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	res := awstest.CLIResult{Stdout: so.String(), Stderr: se.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running aws %v: %v", args, err)
	}
	return res
}
