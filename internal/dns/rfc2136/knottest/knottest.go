// Package knottest runs Debian's Knot DNS (knotd) for tests: one primary
// on 127.0.0.1 at a free port, its configuration, zone file and journal in
// the test's temporary directory, a TSIG key that may update (and, when
// asked, transfer) the zone. Knsupdate edits the zone behind a test's
// back with Knot's own knsupdate. Without knotd installed the test fails
// or is skipped, as awstest.Required decides (`make test` fails it).
package knottest

import (
	"crypto/rand"
	"encoding/base64"
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

// KeyName and Algorithm are the TSIG key every Server accepts.
const (
	KeyName   = "cutover-test."
	Algorithm = "hmac-sha256"
)

// Options describe the zone a Server serves.
type Options struct {
	// Zone is the zone's apex, for example example.com.
	Zone string
	// Records are zone-file lines added after the SOA and NS (which
	// Start writes: ns1.<zone> at 127.0.0.1).
	Records []string
	// NoTransfer refuses AXFR to the key (updates stay allowed).
	NoTransfer bool
	// Secret is the TSIG key, base64; default a random one.
	Secret string
	// Port is the port to listen on; default a free one. StartPair picks
	// both ports ahead, so each server can name the other.
	Port int
	// Notify are secondaries (host:port) told of every change.
	Notify []string
	// Primary, when set, makes this server a secondary of that address
	// (host:port): it transfers the zone with the key instead of loading
	// Records.
	Primary string
}

// Server is a running knotd.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr string
	// Secret is the TSIG key, base64.
	Secret string
	// Zone is the zone's FQDN.
	Zone string
	// Dir holds the configuration, zone file and journal.
	Dir string
}

// Start runs knotd for o and stops it when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := daemontest.LookPath("knotd")
	if bin == "" {
		awstest.Required(t, "knotd (Debian package knot)")
		return nil
	}
	secret := o.Secret
	if secret == "" {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			t.Fatal(err)
		}
		secret = base64.StdEncoding.EncodeToString(raw)
	}
	s := &Server{Secret: secret, Zone: dns.Fqdn(o.Zone), Dir: t.TempDir()}
	if err := os.Mkdir(filepath.Join(s.Dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if o.Primary == "" {
		if err := os.WriteFile(filepath.Join(s.Dir, strings.TrimSuffix(s.Zone, ".")+".zone"), []byte(zoneFile(s.Zone, o.Records)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var lastOut string
	for range 3 {
		port := o.Port
		if port == 0 {
			var err error
			if port, err = daemontest.FreePort(); err != nil {
				t.Fatalf("knottest: finding a free port: %v", err)
			}
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		conf := filepath.Join(s.Dir, "knot.conf")
		if err := os.WriteFile(conf, []byte(config(s, port, o)), 0o600); err != nil {
			t.Fatal(err)
		}
		out, ok := daemontest.Run(t, "knotd", exec.Command(bin, "-c", conf), daemontest.Answers(s.Addr, s.Zone, dns.TypeSOA))
		if ok {
			return s
		}
		lastOut = out
		if o.Port != 0 {
			break // a fixed port will not come free by retrying
		}
	}
	t.Fatalf("knottest: knotd did not start:\n%s", lastOut)
	return nil
}

func zoneFile(zone string, records []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL 300\n", zone)
	fmt.Fprintf(&b, "@ IN SOA ns1.%s hostmaster.%s 1 3600 600 86400 60\n", zone, zone)
	fmt.Fprintf(&b, "@ IN NS ns1.%s\nns1 IN A 127.0.0.1\n", zone)
	for _, r := range records {
		b.WriteString(r + "\n")
	}
	return b.String()
}

func config(s *Server, port int, o Options) string {
	actions := "[update, transfer]"
	if o.NoTransfer {
		actions = "update"
	}
	var remotes, zoneExtra strings.Builder
	var notify []string
	for i, addr := range o.Notify {
		host, p, _ := net.SplitHostPort(addr)
		fmt.Fprintf(&remotes, "  - id: notify%d\n    address: %s@%s\n    key: %s\n", i, host, p, KeyName)
		notify = append(notify, fmt.Sprintf("notify%d", i))
	}
	acls := "cutover"
	if o.Primary != "" {
		host, p, _ := net.SplitHostPort(o.Primary)
		fmt.Fprintf(&remotes, "  - id: primary\n    address: %s@%s\n    key: %s\n", host, p, KeyName)
		zoneExtra.WriteString("    master: primary\n")
		acls = "[cutover, notify]"
	}
	if len(notify) > 0 {
		fmt.Fprintf(&zoneExtra, "    notify: [%s]\n", strings.Join(notify, ", "))
	}
	remoteSection := ""
	if remotes.Len() > 0 {
		remoteSection = "remote:\n" + remotes.String()
	}
	return fmt.Sprintf(`server:
    listen: 127.0.0.1@%d
    rundir: %q
    background-workers: 1
    tcp-workers: 2
    udp-workers: 2
log:
  - target: stderr
    any: info
database:
    storage: %q
key:
  - id: %s
    algorithm: %s
    secret: %s
%sacl:
  - id: cutover
    key: %s
    action: %s
  - id: notify
    key: %s
    action: notify
zone:
  - domain: %s
    storage: %q
    file: %q
    acl: %s
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: changes
    semantic-checks: off
%s`, port, s.Dir, filepath.Join(s.Dir, "db"), KeyName, Algorithm, s.Secret, remoteSection, KeyName, actions, KeyName,
		s.Zone, s.Dir, strings.TrimSuffix(s.Zone, ".")+".zone", acls, zoneExtra.String())
}

// StartPair runs a primary for o and a secondary that it notifies of
// every change, which then transfers the zone from it (IXFR or AXFR, with
// the key), as a zone's name servers do.
func StartPair(t testing.TB, o Options) (primary, secondary *Server) {
	t.Helper()
	pp, err := daemontest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	sp, err := daemontest.FreePort()
	for err == nil && sp == pp {
		sp, err = daemontest.FreePort()
	}
	if err != nil {
		t.Fatal(err)
	}
	po := o
	po.Port, po.Notify = pp, []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(sp))}
	primary = Start(t, po)
	if primary == nil {
		return nil, nil
	}
	so := Options{Zone: o.Zone, Secret: primary.Secret, Port: sp, Primary: primary.Addr}
	secondary = Start(t, so)
	return primary, secondary
}

// Knsupdate runs Knot's knsupdate against s with the key, sending the
// update commands given (each a line such as "update delete a.example.com.
// CNAME"), and fails the test when it fails.
func (s *Server) Knsupdate(t testing.TB, commands ...string) {
	t.Helper()
	bin := daemontest.LookPath("knsupdate")
	if bin == "" {
		awstest.Required(t, "knsupdate (Debian package knot-dnsutils)")
		return
	}
	host, port, _ := net.SplitHostPort(s.Addr)
	script := fmt.Sprintf("server %s %s\nzone %s\n%s\nsend\nquit\n", host, port, s.Zone, strings.Join(commands, "\n"))
	cmd := exec.Command(bin, "-y", Algorithm+":"+KeyName+":"+s.Secret)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("knsupdate: %v\n%s", err, out)
	}
}
