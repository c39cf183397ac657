// Package daemontest runs a real server program (a Debian package's
// daemon such as unbound or knotd) for a test: found where Debian installs
// it, on a free 127.0.0.1 port, awaited until it answers, stopped when the
// test ends. The packages that start one daemon (unboundtest, knottest)
// write its configuration and say what answer means ready.
package daemontest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/syncbuf"
)

// StartTimeout is how long Run waits for a daemon to become ready.
const StartTimeout = 10 * time.Second

// LookPath finds the program name on PATH or, as /usr/sbin is not on every
// user's PATH, in the directories Debian installs daemons in; "" when it is
// not installed.
func LookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// FreePort finds a port free for both UDP and TCP on 127.0.0.1. Another
// process may take it before the daemon binds it: callers retry a start
// that fails.
func FreePort() (int, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		pc.Close()
		if err != nil {
			lastErr = err
			continue
		}
		ln.Close()
		return p, nil
	}
	return 0, lastErr
}

// Run starts cmd (its output captured) and polls ready every 20 ms until
// it holds, for at most StartTimeout. When ready, the daemon is stopped at
// the end of the test, which logs its output if it failed, and Run returns
// ok. When the daemon exits first or never becomes ready, it is stopped
// and Run returns its output, for the caller to retry or report. name
// names the daemon in messages.
func Run(t testing.TB, name string, cmd *exec.Cmd, ready func() bool) (output string, ok bool) {
	t.Helper()
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(StartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return out.String(), false
		default:
		}
		if ready() {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("%s's log:\n%s", name, out.String())
				}
			})
			return "", true
		}
		select {
		case <-exited:
			return out.String(), false
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	return out.String() + "\n(timed out waiting for " + name + ")", false
}

// Answers is a ready check for a DNS server: addr answers the question
// name/qtype with NOERROR and exactly one record.
func Answers(addr, name string, qtype uint16) func() bool {
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return func() bool {
		r, _, err := c.Exchange(m, addr)
		return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
	}
}
