package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/bridge"
)

// The configuration `cutover bridge --help` shows is a valid one.
func TestBridgeHelpExampleParses(t *testing.T) {
	if _, err := bridge.Parse([]byte(bridgeExample)); err != nil {
		t.Fatal(err)
	}
}

// --check validates and loads certificates without binding anything: it
// succeeds even while another process holds the configured port.
func TestBridgeCheck(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	route := "routes:\n  - host: cdn.example.com\n    upstreams: [http://127.0.0.1:1]\n    rewrite_host: cdn-new.example.com\n"
	good := write("good.yaml", "listeners: {http: "+busy.Addr().String()+"}\nmetrics: off\n"+route)
	out, err := runCLI(t, "", "bridge", "-c", good, "--check")
	if err != nil || !strings.Contains(out, "is valid") || !strings.Contains(out, "1 route: cdn.example.com -> cdn-new.example.com") {
		t.Fatalf("valid config: %v\n%s", err, out)
	}

	noCert := write("nocert.yaml", "listeners: {https: {addr: 127.0.0.1:0, certificates: [{cert: "+
		filepath.Join(dir, "missing.pem")+", key: "+filepath.Join(dir, "missing.key")+"}]}}\nmetrics: off\n"+route)
	out, err = runCLI(t, "", "bridge", "-c", noCert, "--check")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "missing.pem") {
		t.Fatalf("missing certificate: exit %d, %v\n%s", exitCode(err), err, out)
	}

	typo := write("typo.yaml", "routes:\n  - host: cdn.example.com\n    upstrems: [http://127.0.0.1:1]\n")
	out, err = runCLI(t, "", "bridge", "-c", typo, "--check")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "3:5") || !strings.Contains(err.Error(), `"upstrems"`) {
		t.Fatalf("unknown field: exit %d, %v\n%s", exitCode(err), err, out)
	}
}
