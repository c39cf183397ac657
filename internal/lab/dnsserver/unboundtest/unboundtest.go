package unboundtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/daemontest"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// readyName is answered by unbound itself (a local-data record), so a
// probe tells when it is up without touching the upstream or its cache.
const readyName = "ready.unboundtest."

// Start runs unbound on 127.0.0.1 at a free port, forwarding each zone in
// forwardZones to upstream ("host:port"), and returns its address
// ("127.0.0.1:port"). unbound caches as configured by default except that
// cache-min-ttl is 0, so answers expire exactly on their TTLs. It is
// stopped when the test ends. Without unbound installed the test fails or
// is skipped, as awstest.Required decides (`make test` fails it).
func Start(t testing.TB, forwardZones []string, upstream string) string {
	t.Helper()
	bin := daemontest.LookPath("unbound")
	if bin == "" {
		awstest.Required(t, "unbound")
		return ""
	}
	host, port, err := net.SplitHostPort(upstream)
	if err != nil {
		t.Fatalf("unboundtest: upstream %q: %v", upstream, err)
	}
	dir := t.TempDir()
	// A free port can be taken between probing and unbound's bind; retry.
	var lastOut string
	for range 3 {
		p, err := daemontest.FreePort()
		if err != nil {
			t.Fatalf("unboundtest: finding a free port: %v", err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		conf := filepath.Join(dir, "unbound.conf")
		if err := os.WriteFile(conf, []byte(config(dir, p, forwardZones, host+"@"+port)), 0o600); err != nil {
			t.Fatalf("unboundtest: writing config: %v", err)
		}
		out, ok := daemontest.Run(t, "unbound", exec.Command(bin, "-d", "-c", conf), daemontest.Answers(addr, readyName, dns.TypeA))
		if ok {
			return addr
		}
		lastOut = out
	}
	t.Fatalf("unboundtest: unbound did not start:\n%s", lastOut)
	return ""
}

func config(dir string, port int, zones []string, upstream string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `server:
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	do-daemonize: no
	chroot: ""
	username: ""
	directory: %q
	pidfile: %q
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	so-reuseport: no
	module-config: "iterator"
	val-permissive-mode: yes
	do-not-query-localhost: no
	qname-minimisation: no
	cache-min-ttl: 0
	prefetch: no
	serve-expired: no
	access-control: 127.0.0.0/8 allow
	local-zone: "unboundtest." static
	local-data: "%s 0 IN A 127.0.0.1"
remote-control:
	control-enable: no
`, port, dir, filepath.Join(dir, "unbound.pid"), readyName)
	for _, z := range zones {
		fmt.Fprintf(&b, "forward-zone:\n\tname: %q\n\tforward-addr: %s\n", dns.Fqdn(z), upstream)
	}
	return b.String()
}
