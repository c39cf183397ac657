// Package etcdtest starts a real etcd cluster (Debian's etcd-server) for
// tests: every member on 127.0.0.1 ports it picks, data in t.TempDir(),
// stopped when the test ends. A missing etcd binary fails the test under
// CI=true or CUTOVER_REQUIRE_PEERS=1 and skips it otherwise.
package etcdtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// Member is one running etcd process.
type Member struct {
	Name      string
	ClientURL string
	PeerURL   string
	DataDir   string
	cmd       *exec.Cmd
	log       *os.File
	exited    chan struct{} // closed when the process ended
}

// Signal sends sig to the member's process: SIGSTOP cuts it off (its
// peers and clients get no answer), SIGCONT brings it back.
func (m *Member) Signal(sig os.Signal) error { return m.cmd.Process.Signal(sig) }

// Cluster is a running etcd cluster.
type Cluster struct {
	Members []*Member
}

// Endpoints lists the members' client URLs.
func (c *Cluster) Endpoints() []string {
	out := make([]string, len(c.Members))
	for i, m := range c.Members {
		out[i] = m.ClientURL
	}
	return out
}

// Binary returns the path of etcd, or reports it missing as
// awstest.Required decides.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("etcd")
	if err != nil {
		awstest.Required(t, "etcd (Debian package etcd-server)")
	}
	return path
}

// freePort reserves a port on 127.0.0.1 by binding :0, and frees it for the
// member to take.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("picking a port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs an n-member cluster and waits until it has a leader and
// answers a write.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return StartWith(t, n, Options{})
}

// Options change how members serve clients.
type Options struct {
	// TLS, when set, makes members serve clients over https with these
	// files and require client certificates signed by its CA.
	TLS *Certs
}

// StartWith is Start with options.
func StartWith(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	scheme := "http"
	if opts.TLS != nil {
		scheme = "https"
	}
	bin := Binary(t)
	dir := t.TempDir()
	c := &Cluster{}
	var initial []string
	for i := 0; i < n; i++ {
		m := &Member{
			Name:      fmt.Sprintf("m%d", i),
			ClientURL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, freePort(t)),
			PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
			DataDir:   filepath.Join(dir, fmt.Sprintf("m%d", i)),
		}
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	for _, m := range c.Members {
		log, err := os.Create(filepath.Join(dir, m.Name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		m.log = log
		args := []string{
			"--name", m.Name,
			"--data-dir", m.DataDir,
			"--listen-client-urls", m.ClientURL,
			"--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL,
			"--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-state", "new",
			"--initial-cluster-token", "cutover-test",
			"--heartbeat-interval", "50",
			"--election-timeout", "500",
			"--logger", "zap",
			"--log-level", "warn",
		}
		if opts.TLS != nil {
			args = append(args, "--cert-file", opts.TLS.ServerCert, "--key-file", opts.TLS.ServerKey,
				"--trusted-ca-file", opts.TLS.CA, "--client-cert-auth")
		}
		m.cmd = exec.Command(bin, args...)
		m.cmd.Stdout, m.cmd.Stderr = log, log
		if err := m.cmd.Start(); err != nil {
			t.Fatalf("starting etcd member %s: %v", m.Name, err)
		}
		m.exited = make(chan struct{})
		go func() { _ = m.cmd.Wait(); close(m.exited) }()
	}
	t.Cleanup(func() {
		for _, m := range c.Members {
			_ = m.cmd.Process.Signal(syscall.SIGCONT)
			_ = m.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, m := range c.Members {
			select {
			case <-m.exited:
			case <-time.After(10 * time.Second):
				_ = m.cmd.Process.Kill()
				<-m.exited
			}
			_ = m.log.Close()
		}
	})
	c.await(t, dir, opts)
	return c
}

// await polls the cluster until a write through every member succeeds.
func (c *Cluster) await(t testing.TB, dir string, opts Options) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, m := range c.Members {
		cfg := clientv3.Config{Endpoints: []string{m.ClientURL}, DialTimeout: time.Second, Logger: zap.NewNop()}
		if opts.TLS != nil {
			cfg.TLS = opts.TLS.ClientConfig(t)
		}
		cli, err := clientv3.New(cfg)
		if err != nil {
			t.Fatalf("etcd client for %s: %v", m.Name, err)
		}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err = cli.Put(ctx, "/etcdtest/ready", m.Name)
			cancel()
			if err == nil {
				break
			}
			logs := func() []byte { b, _ := os.ReadFile(filepath.Join(dir, m.Name+".log")); return b }
			if time.Now().After(deadline) {
				_ = cli.Close()
				t.Fatalf("etcd member %s did not answer within 30s: %v\n%s", m.Name, err, logs())
			}
			select {
			case <-m.exited:
				_ = cli.Close()
				t.Fatalf("etcd member %s exited (a port taken meanwhile?):\n%s", m.Name, logs())
			case <-time.After(50 * time.Millisecond):
			}
		}
		_ = cli.Close()
	}
}
