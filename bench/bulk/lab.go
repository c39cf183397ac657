package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// labProc is a `cutover lab` subprocess.
type labProc struct {
	cmd  *exec.Cmd
	env  []string // KEY=VALUE lines of its --env-file
	api  string   // AWS endpoint
	done chan error
}

// labOptions are how the lab is started.
type labOptions struct {
	cutover     string
	dir         string
	seed        string
	rateLimit   string // legacy | buckets
	propagation time.Duration
}

// startLab starts `cutover lab` on free ports with the seed and waits until
// it says it is ready.
func startLab(ctx context.Context, o labOptions) (*labProc, error) {
	envFile := filepath.Join(o.dir, "lab.env")
	logFile, err := os.Create(filepath.Join(o.dir, "lab.log"))
	if err != nil {
		return nil, fmt.Errorf("creating the lab log: %w", err)
	}
	cmd := exec.CommandContext(ctx, o.cutover, "lab",
		"--seed", o.seed, "--env-file", envFile, "--ca", filepath.Join(o.dir, "lab-ca.pem"),
		"--api", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--http-port", "0", "--https-port", "0",
		"--origin", "old=127.0.0.1:0", "--origin", "new=127.0.0.1:0", "--edges", "1",
		"--rate-limit", o.rateLimit, "--r53-propagation", o.propagation.String())
	cmd.Env = benchEnv(nil)
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the lab: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the lab: %w", err)
	}
	p := &labProc{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		said := false
		for sc.Scan() {
			fmt.Fprintln(logFile, sc.Text())
			if !said && strings.HasPrefix(sc.Text(), "# cutover lab ready") {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
		_, _ = io.Copy(logFile, out)
		p.done <- cmd.Wait()
		logFile.Close()
	}()
	if !<-ready {
		err := <-p.done
		return nil, fmt.Errorf("the lab exited before it was ready (%v); see %s", err, logFile.Name())
	}
	data, err := os.ReadFile(envFile)
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("reading the lab's environment: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		kv := strings.TrimPrefix(strings.TrimSpace(line), "export ")
		if k, v, ok := strings.Cut(kv, "="); ok {
			p.env = append(p.env, kv)
			if k == "AWS_ENDPOINT_URL" {
				p.api = v
			}
		}
	}
	if p.api == "" {
		p.stop()
		return nil, fmt.Errorf("the lab's environment %s names no AWS_ENDPOINT_URL", envFile)
	}
	return p, nil
}

// stop interrupts the lab and waits for it to exit.
func (p *labProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// benchEnv is this process's environment without any AWS setting, so
// that a subprocess reaches the lab and nothing else, plus extra.
func benchEnv(extra []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	return append(out, extra...)
}

// awsConfig is an SDK configuration reaching the lab as its default
// account's admin.
func (p *labProc) awsConfig() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(p.api),
		Credentials:  credentials.NewStaticCredentialsProvider(awsapi.DefaultAccessKeyID, awsapi.DefaultSecretAccessKey, ""),
	}
}

// zoneIDs maps every hosted zone's name (no trailing dot) to its id.
func (p *labProc) zoneIDs(ctx context.Context) (map[string]string, error) {
	c := route53.NewFromConfig(p.awsConfig())
	out := map[string]string{}
	pages := route53.NewListHostedZonesPaginator(c, &route53.ListHostedZonesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the lab's hosted zones: %w", err)
		}
		for _, z := range page.HostedZones {
			out[strings.TrimSuffix(aws.ToString(z.Name), ".")] = strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/")
		}
	}
	return out, nil
}

// calls returns the Route 53 calls the lab answered after seq since.
func (p *labProc) calls(ctx context.Context, since int64) ([]awsapi.Call, error) {
	q := url.Values{"service": {"route53"}, "since": {strconv.FormatInt(since, 10)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.api+"/_lab/calls?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the lab's calls: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("reading the lab's calls: %s: %s", resp.Status, b)
	}
	var calls []awsapi.Call
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil {
		return nil, fmt.Errorf("decoding the lab's calls: %w", err)
	}
	return calls, nil
}

// lastSeq is the sequence number of the last call the lab logged.
func (p *labProc) lastSeq(ctx context.Context) (int64, error) {
	calls, err := p.calls(ctx, 0)
	if err != nil {
		return 0, err
	}
	var last int64
	for _, c := range calls {
		last = max(last, c.Seq)
	}
	return last, nil
}

// watchPeak reads the process's peak resident set (VmHWM of
// /proc/PID/status, in bytes) every 20 ms until the returned function is
// called, which returns the last reading. The rusage of wait4 cannot be
// used: Linux carries the high-water mark of the memory an exec replaces
// into the new program's Maxrss, and a child started from this process
// (vfork, then exec) would report this process's own peak when it is the
// larger.
func watchPeak(pid int) func() int64 {
	var peak atomic.Int64
	done := make(chan struct{})
	finished := make(chan struct{})
	read := func() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if kb*1024 > peak.Load() {
					peak.Store(kb * 1024)
				}
			}
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		return peak.Load()
	}
}
