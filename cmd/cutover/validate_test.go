package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runValidate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newValidateCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

func TestValidateRejectsBadPlan(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	src := `apiVersion: cutover/v1
kind: Cutover
name: api
hostname: api.example.com
zone: {id: Z1}
from: {cloudfront: EAAAAAAAAA}
to: {cloudfront: EBBBBBBBBB}
strategy: weighted
steps:
  - weight: 10
    paus: 5m
  - weight: 100
`
	if err := os.WriteFile(bad, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runValidate(t, "-f", bad)
	if code := exitCode(err); code != exitUsage {
		t.Fatalf("exit code %d, want %d (err %v)", code, exitUsage, err)
	}
	for _, want := range []string{
		bad + ":8:11: strategy weighted cannot split api.example.com between two CloudFront distributions",
		bad + ":11:5: unknown field `paus` in `steps[0]`; did you mean `pause`?",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "valid (") {
		t.Errorf("bad plan reported valid:\n%s", out)
	}
	// Nothing is written next to the plan.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("validate wrote files: %v", entries)
	}
}

func TestValidateGoodAndBadTogether(t *testing.T) {
	good := filepath.Join("..", "..", "examples", "weighted.yaml")
	bad := filepath.Join(t.TempDir(), "empty.yaml")
	if err := os.WriteFile(bad, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runValidate(t, "-f", good, "-f", bad)
	if code := exitCode(err); code != exitUsage {
		t.Fatalf("exit code %d, want %d", code, exitUsage)
	}
	if !strings.Contains(out, good+": valid (strategy weighted, 5 steps, 3 gates)") {
		t.Errorf("missing verdict for the good plan:\n%s", out)
	}
	if !strings.Contains(out, bad+":1:1: the plan is empty") {
		t.Errorf("missing diagnostic for the bad plan:\n%s", out)
	}
	if err == nil || err.Error() != "1 of 2 plan files are invalid" {
		t.Errorf("err = %v", err)
	}
}

func TestValidateJSON(t *testing.T) {
	out, err := runValidate(t, "-f", filepath.Join("..", "..", "examples", "staging.yaml"), "-o", "json")
	if err != nil {
		t.Fatalf("valid example rejected: %v\n%s", err, out)
	}
	var res []validateResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(res) != 1 || !res[0].Valid || res[0].Strategy != "staging" || res[0].Gates != 1 {
		t.Errorf("result = %+v", res)
	}
}

func TestValidateUsage(t *testing.T) {
	if _, err := runValidate(t); exitCode(err) != exitUsage {
		t.Errorf("no -f: exit %d, want %d", exitCode(err), exitUsage)
	}
	if _, err := runValidate(t, "-f", "x.yaml", "-o", "xml"); exitCode(err) != exitUsage {
		t.Errorf("bad -o: exit %d, want %d", exitCode(err), exitUsage)
	}
	out, err := runValidate(t, "-f", filepath.Join(t.TempDir(), "missing.yaml"))
	if exitCode(err) != exitUsage || !strings.Contains(out, "reading plan:") {
		t.Errorf("missing file: exit %d, out %q", exitCode(err), out)
	}
}

func TestSchemaCommand(t *testing.T) {
	cmd := newSchemaCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("schema output is not JSON: %v", err)
	}
	if _, ok := s["properties"].(map[string]any)["strategy"]; !ok {
		t.Errorf("schema lacks strategy")
	}
}
