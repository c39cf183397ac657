package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/origin"
	"github.com/cutover/cutover/internal/syncbuf"
)

// freePort reserves nothing: it asks the kernel for a free port on addr
// and releases it, for a seed that must name an origin's port before the
// lab starts.
func freePort(t *testing.T, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if ok {
			env[k] = v
		}
	}
	return env
}

func waitCond(t *testing.T, limit time.Duration, what string, out *syncbuf.Buffer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; output so far:\n%s", what, out.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestLabProcessEndToEnd runs `cutover lab` as its own process on
// ephemeral ports and drives every plane through what it printed: the aws
// CLI against the API, DNS through the resolver, HTTP and HTTPS through an
// edge, client load in the table, `lab fault` and `lab history` against
// the running lab; SIGTERM stops it and leaves the snapshot.
func TestLabProcessEndToEnd(t *testing.T) {
	dir := t.TempDir()
	oldAddr := freePort(t, "127.0.3.1")
	oldHost, oldPort, _ := net.SplitHostPort(oldAddr)
	seed := filepath.Join(dir, "seed.yaml")
	os.WriteFile(seed, []byte(fmt.Sprintf(`
zones: [{name: example.com}]
certificates: [{name: cdn, domains: [cdn.example.com]}]
distributions:
  - {name: old, aliases: [cdn.example.com], certificate: cdn, origin: {domain: %s, http_port: %s}}
records:
  - {zone: example.com, name: cdn.example.com, type: A, alias: {distribution: old}}
`, oldHost, oldPort)), 0o644)
	envFile, snap, ca := filepath.Join(dir, "lab.env"), filepath.Join(dir, "snap.json"), filepath.Join(dir, "ca.pem")

	cmd := cutoverProcess("lab", "--api", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--http-port", "0", "--https-port", "0",
		"--edges", "2", "--propagation", "20ms..50ms", "--r53-propagation", "50ms", "--deploy-delay", "100ms",
		"--origin", "old="+oldAddr, "--origin", "new=127.0.3.2:0",
		"--seed", seed, "--env-file", envFile, "--snapshot", snap, "--ca", ca, "--any-key=333333333333",
		"--load", "40", "--load-host", "cdn.example.com", "--load-every", "200ms")
	var out, errOut syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	waitCond(t, 15*time.Second, "the env file", &out, func() bool {
		b, err := os.ReadFile(envFile)
		return err == nil && strings.Contains(string(b), "CUTOVER_LAB_ORIGINS=")
	})
	env := readEnvFile(t, envFile)
	api, resolver := env["AWS_ENDPOINT_URL"], env["CUTOVER_LAB_RESOLVER"]
	edges := strings.Split(env["CUTOVER_LAB_EDGES"], ",")
	httpPort, httpsPort := env["CUTOVER_LAB_HTTP_PORT"], env["CUTOVER_LAB_HTTPS_PORT"]
	if !strings.HasPrefix(api, "http://127.0.0.1:") || strings.HasSuffix(api, ":0") || env["AWS_ACCESS_KEY_ID"] != awsapi.DefaultAccessKeyID ||
		env["CUTOVER_LAB_CA"] != ca || len(edges) != 2 || httpPort == "0" || httpsPort == "0" || strings.HasSuffix(resolver, ":0") {
		t.Fatalf("env file: %v", env)
	}
	if !strings.Contains(env["CUTOVER_LAB_ORIGINS"], "old="+oldAddr) || !strings.Contains(env["CUTOVER_LAB_ORIGINS"], "new=127.0.3.2:") {
		t.Fatalf("origins in the env file: %q", env["CUTOVER_LAB_ORIGINS"])
	}
	if !strings.Contains(out.String(), "export CUTOVER_LAB_RESOLVER="+resolver) {
		t.Fatalf("stdout lacks the environment:\n%s", out.String())
	}

	// Control plane: the aws CLI sees the seeded zone.
	res := awstest.CLI(t, api, "route53", "list-hosted-zones")
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, `"example.com."`) {
		t.Fatalf("aws route53 list-hosted-zones: %d %s %s", res.ExitCode, res.Stdout, res.Stderr)
	}

	// DNS: the alias answers the edges. The zone answers once INSYNC.
	var answer []string
	waitCond(t, 5*time.Second, "the DNS answer", &out, func() bool {
		m := new(dns.Msg)
		m.SetQuestion("cdn.example.com.", dns.TypeA)
		in, err := dns.Exchange(m, resolver)
		if err != nil || in.Rcode != dns.RcodeSuccess {
			return false
		}
		answer = nil
		for _, rr := range in.Answer {
			if a, ok := rr.(*dns.A); ok {
				answer = append(answer, a.A.String())
			}
		}
		return len(answer) > 0
	})
	slices.Sort(answer)
	if !slices.Equal(answer, edges) {
		t.Fatalf("cdn.example.com resolves to %v, want the edges %v", answer, edges)
	}

	// Data plane: an edge routes by Host to the seeded origin, over HTTP
	// and over HTTPS trusting the written CA.
	get := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+net.JoinHostPort(edges[1], httpPort)+"/ruok", nil)
		req.Host = "cdn.example.com"
		resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	if st, body := get(); st != 200 || body != "ok-old" {
		t.Fatalf("GET via edge: %d %q", st, body)
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("--ca holds no certificate")
	}
	conn, err := tls.Dial("tcp", net.JoinHostPort(edges[0], httpsPort), &tls.Config{RootCAs: pool, ServerName: "cdn.example.com"})
	if err != nil {
		t.Fatalf("TLS to an edge with the lab CA: %v", err)
	}
	conn.Close()

	// Load: the table shows seconds served by the old origin.
	row := regexp.MustCompile(`(?m)^\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$`)
	waitCond(t, 10*time.Second, "a load row served by old", &out, func() bool {
		for _, m := range row.FindAllStringSubmatch(out.String(), -1) {
			// columns: total, new, old, failed
			if n, _ := strconv.Atoi(m[3]); n > 0 && m[4] == "0" {
				return true
			}
		}
		return false
	})
	if !strings.Contains(out.String(), "second   total     new     old  failed") {
		t.Fatalf("load table header missing:\n%s", out.String())
	}

	// Fault round trip.
	run := func(args ...string) (string, error) {
		c := cutoverProcess(args...)
		b, err := c.CombinedOutput()
		return string(b), err
	}
	if o, err := run("lab", "fault", "old", "--error-rate", "1", "--status", "503", "--endpoint", api, "-o", "json"); err != nil {
		t.Fatalf("lab fault: %v\n%s", err, o)
	} else {
		var info origin.Info
		if err := json.Unmarshal([]byte(o), &info); err != nil || info.Name != "old" || info.Fault.ErrorRate != 1 || info.Fault.Status != 503 {
			t.Fatalf("lab fault answer %q: %v", o, err)
		}
	}
	if st, _ := get(); st != 503 {
		t.Fatalf("with the fault the edge answers %d", st)
	}
	if o, err := run("lab", "fault", "old", "--clear", "--endpoint", api); err != nil || !strings.Contains(o, "origin old (") || !strings.Contains(o, "no fault") {
		t.Fatalf("lab fault --clear: %v\n%s", err, o)
	}
	if st, body := get(); st != 200 || body != "ok-old" {
		t.Fatalf("after --clear: %d %q", st, body)
	}
	if o, err := run("lab", "fault", "nobody", "--error-rate", "0.5", "--endpoint", api); err == nil || !strings.Contains(o, `no origin named "nobody"`) {
		t.Fatalf("fault on an unknown origin: %v\n%s", err, o)
	}

	// History round trip: a write through the CLI shows up, filtered.
	if r := awstest.CLI(t, api, "route53", "create-hosted-zone", "--name", "other.example.org", "--caller-reference", "lab-test"); r.ExitCode != 0 {
		t.Fatalf("create-hosted-zone: %s", r.Stderr)
	}
	o, err := run("lab", "history", "--service", "route53", "--endpoint", api, "-o", "json")
	if err != nil {
		t.Fatalf("lab history: %v\n%s", err, o)
	}
	var changes []awsapi.Change
	if err := json.Unmarshal([]byte(o), &changes); err != nil || len(changes) == 0 {
		t.Fatalf("lab history -o json: %v\n%s", err, o)
	}
	last := changes[len(changes)-1]
	if last.Operation != "CreateHostedZone" || last.Service != "route53" {
		t.Fatalf("last route53 change: %+v", last)
	}
	for _, c := range changes {
		if c.Service != "route53" {
			t.Fatalf("--service route53 returned %+v", c)
		}
	}
	o, err = run("lab", "history", "--since", strconv.FormatInt(last.Seq-1, 10), "--endpoint", api)
	if err != nil || !strings.Contains(o, "SEQ") || !strings.Contains(o, "CreateHostedZone") || strings.Count(strings.TrimSpace(o), "\n") != 1 {
		t.Fatalf("lab history --since: %v\n%s", err, o)
	}

	// --any-key: a suite's fixed fake key acts as that account's admin.
	if r := awstest.CLIEnv(t, api, []string{"AWS_ACCESS_KEY_ID=FOOBARKEY", "AWS_SECRET_ACCESS_KEY=FOOBARSECRET"}, "sts", "get-caller-identity"); r.ExitCode != 0 || !strings.Contains(r.Stdout, `"333333333333"`) {
		t.Fatalf("get-caller-identity with a fake key under --any-key: %d %s %s", r.ExitCode, r.Stdout, r.Stderr)
	}

	// SIGTERM: clean exit, snapshot written, load summary printed.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("lab exited with %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("lab did not stop on SIGTERM")
	}
	data, err := os.ReadFile(snap)
	if err != nil || !strings.Contains(string(data), "other.example.org") {
		t.Fatalf("snapshot after SIGTERM: %v (has the new zone: %v)", err, strings.Contains(string(data), "other.example.org"))
	}
	if s := out.String(); !strings.Contains(s, "# lab state saved to "+snap) || !regexp.MustCompile(`# load cdn\.example\.com: \d+ requests, ok-old \d+`).MatchString(s) {
		t.Fatalf("final output:\n%s", s)
	}
	// 503s from the fault are the only failures the load may have seen.
	if m := regexp.MustCompile(`#   (\S+: [^\n]*): \d+`).FindAllStringSubmatch(out.String(), -1); m != nil {
		for _, e := range m {
			if !strings.HasPrefix(e[1], "http_5xx: 503") {
				t.Fatalf("unexpected load failure %q", e[1])
			}
		}
	}
}

// Bad flags are usage errors (exit 2), reported before anything binds.
func TestLabFlagValidation(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--propagation", "5s..1s"}, "MIN <= MAX"},
		{[]string{"--propagation", "soon"}, "--propagation"},
		{[]string{"--origin", "old"}, "NAME=HOST:PORT"},
		{[]string{"--origin", "a=127.0.0.1:1", "--origin", "a=127.0.0.1:2"}, "given twice"},
		{[]string{"--load", "10"}, "--load needs --load-host"},
		{[]string{"--http-port", "0"}, "--https-port 0"},
		{[]string{"--edges", "0"}, "--edges"},
		{[]string{"--rate-limit", "fast"}, "--rate-limit"},
		{[]string{"--any-key=12345"}, "12-digit account id"},
	} {
		cmd := newLabCmd()
		// An address nothing can bind: a case that wrongly passed
		// validation fails here instead of running a lab.
		cmd.SetArgs(append(tc.args, "--api", "bad-address"))
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		var ee *exitError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("%v: %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
	lo, hi, err := parsePropagation("250ms..2s")
	if err != nil || lo != 250*time.Millisecond || hi != 2*time.Second {
		t.Fatalf("parsePropagation: %v %v %v", lo, hi, err)
	}
	if lo, hi, err := parsePropagation("3s"); err != nil || lo != 3*time.Second || hi != 3*time.Second {
		t.Fatalf("a single duration: %v %v %v", lo, hi, err)
	}
}

func TestLabFaultAndHistoryFlags(t *testing.T) {
	for _, args := range [][]string{
		{"fault", "new"},
		{"fault", "new", "--clear", "--error-rate", "0.1"},
		{"fault", "new", "--status", "503"},
		{"fault", "new", "--error-rate", "2"},
		{"history", "--since", "-1"},
		{"history", "-o", "yaml"},
	} {
		cmd := newLabCmd()
		cmd.SetArgs(append(args, "--endpoint", "http://127.0.0.1:1"))
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

// TestLabResetCommand: what a test created is gone after `cutover lab
// reset`, and the seed is still there.
func TestLabResetCommand(t *testing.T) {
	dir := t.TempDir()
	seed, envFile := filepath.Join(dir, "seed.yaml"), filepath.Join(dir, "lab.env")
	if err := os.WriteFile(seed, []byte("zones: [{name: example.com}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := cutoverProcess("lab", "--api", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--http-port", "0", "--https-port", "0",
		"--edges", "1", "--origin", "old=127.0.3.1:0", "--seed", seed, "--env-file", envFile)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitCond(t, 15*time.Second, "the env file", &out, func() bool {
		b, err := os.ReadFile(envFile)
		return err == nil && strings.Contains(string(b), "AWS_ENDPOINT_URL=")
	})
	api := readEnvFile(t, envFile)["AWS_ENDPOINT_URL"]
	if r := awstest.CLI(t, api, "route53", "create-hosted-zone", "--name", "made-by-a-test.example.org", "--caller-reference", "t1"); r.ExitCode != 0 {
		t.Fatalf("create-hosted-zone: %s", r.Stderr)
	}
	o, err := cutoverProcess("lab", "reset", "--endpoint", api).CombinedOutput()
	if err != nil || !strings.Contains(string(o), "reset to its seed state") {
		t.Fatalf("lab reset: %v\n%s", err, o)
	}
	r := awstest.CLI(t, api, "route53", "list-hosted-zones")
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, `"example.com."`) || strings.Contains(r.Stdout, "made-by-a-test") {
		t.Fatalf("zones after reset: %d %s %s", r.ExitCode, r.Stdout, r.Stderr)
	}
	o, err = cutoverProcess("lab", "history", "--endpoint", api, "-o", "json").CombinedOutput()
	if err != nil || strings.TrimSpace(string(o)) != "[]" {
		t.Fatalf("history after reset: %v %s", err, o)
	}
}
