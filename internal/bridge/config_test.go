package bridge

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFullConfigAndDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
listeners:
  http: ":8080"
routes:
  - host: CDN.example.com
    upstreams: [https://d111.cloudfront.net]
    rewrite_host: cdn-new.example.com
    headers: {X-Bridge: "1"}
    timeout: 5s
upstream_tls: {insecure_skip_verify: false}
limits: {read_header_timeout: 2s}
access_log: true
`))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Routes[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"http addr binds loopback", cfg.Listeners.HTTP, "127.0.0.1:8080"},
		{"metrics default", cfg.Metrics, DefaultMetricsAddr},
		{"host lower-cased", r.Host, "cdn.example.com"},
		{"rewrite", r.RewriteHost, "cdn-new.example.com"},
		{"timeout", r.Timeout, 5 * time.Second},
		{"max_concurrent default", r.MaxConcurrent, DefaultMaxConcurrent},
		{"read header timeout", cfg.Limits.ReadHeaderTimeout, 2 * time.Second},
		{"idle default", cfg.Limits.IdleTimeout, DefaultIdleTimeout},
		{"header bytes default", cfg.Limits.MaxHeaderBytes, DefaultMaxHeaderBytes},
		{"header count default", cfg.Limits.MaxHeaderCount, DefaultMaxHeaderCount},
		{"health failures default", cfg.Health.Failures, DefaultHealthFailures},
		{"access log", cfg.AccessLog, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseUnknownFieldHasLineAndColumn(t *testing.T) {
	_, err := Parse([]byte("routes:\n  - host: cdn.example.com\n    upstreams: [https://d1.cloudfront.net]\n    rewrite_hots: x.example.com\n"))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want *ConfigError", err)
	}
	if !strings.Contains(err.Error(), `4:5: unknown field "rewrite_hots" in routes[0]`) {
		t.Fatalf("error lacks position: %v", err)
	}
}

func TestValidationCollectsAllProblemsWithPositions(t *testing.T) {
	_, err := Parse([]byte(`listeners:
  https: {addr: "127.0.0.1:8443"}
routes:
  - host: cdn.example.com/path
    upstreams: [ftp://x, "https://d1.cloudfront.net/prefix"]
    headers: {Connection: close}
  - host: cdn.example.com/path
    upstreams: []
`))
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{
		"listeners.https: at least one certificate",
		`4:11: routes[0].host: "cdn.example.com/path" is not a host name`,
		"5:17: routes[0].upstreams[0]",
		"scheme must be http or https",
		"only scheme://host[:port] is allowed",
		"routes[0].headers.Connection",
		"is already routed by routes[0]",
		"routes[1].upstreams: at least one upstream",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

func TestNewAppliesDefaultsToLiteralConfig(t *testing.T) {
	s, err := New(&Config{Routes: []Route{{Host: "a.example.com", Upstreams: []string{"http://127.0.0.1:1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Listeners.HTTP != DefaultHTTPAddr || s.cfg.Routes[0].RewriteHost != "a.example.com" {
		t.Fatalf("defaults not applied: %+v", s.cfg)
	}
	if _, err := New(&Config{}); err == nil {
		t.Fatal("a config without routes was accepted")
	}
}
