package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole bridge configuration. Zero values mean "use the
// default" documented on each field; Load fills them in.
type Config struct {
	// Listeners where clients connect. Default: http on 127.0.0.1:8080.
	Listeners Listeners `yaml:"listeners"`
	// Routes, one per public host name. At least one is required.
	Routes []Route `yaml:"routes"`
	// UpstreamTLS controls how upstream certificates are verified.
	UpstreamTLS UpstreamTLS `yaml:"upstream_tls"`
	// Limits protect the listeners against slow or abusive clients.
	Limits Limits `yaml:"limits"`
	// Health is the passive health policy applied to every upstream.
	Health HealthPolicy `yaml:"health"`
	// Metrics is the address of the listener serving /metrics and /healthz.
	// Default 127.0.0.1:9090; "off" disables it.
	Metrics string `yaml:"metrics"`
	// HealthHost, when set, lets the main listeners answer /healthz for
	// requests carrying this Host (load balancer health checks). Requests
	// without any Host are always answered.
	HealthHost string `yaml:"health_host"`
	// AccessLog writes one structured (JSON) line per request to stderr.
	AccessLog bool `yaml:"access_log"`
	// EventLoops serves plain-HTTP clients with epoll event loops, one per
	// GOMAXPROCS, on Linux; false serves each connection on a goroutine of
	// its own, as on other systems. Default true.
	EventLoops *bool `yaml:"event_loops"`
	// DebugPprof serves net/http/pprof under /debug/pprof/ on the metrics
	// listener. Off by default: profiles reveal internals.
	DebugPprof bool `yaml:"debug_pprof"`
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after SIGINT/SIGTERM. Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Listeners are the client-facing sockets. An address without a host part
// (":8080") binds to 127.0.0.1; write 0.0.0.0:8080 to listen everywhere.
type Listeners struct {
	HTTP  string         `yaml:"http"`
	HTTPS *HTTPSListener `yaml:"https"`
}

// HTTPSListener terminates TLS (HTTP/2 and HTTP/1.1). The certificate is
// chosen by the client's SNI among Certificates; the first one is the
// fallback for clients that send no SNI.
type HTTPSListener struct {
	Addr         string            `yaml:"addr"`
	Certificates []CertificateFile `yaml:"certificates"`
}

// CertificateFile names a PEM certificate chain and its private key.
type CertificateFile struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Route forwards requests for Host to Upstreams, rewriting Host.
type Route struct {
	// Host is the public name clients ask for (matched without port,
	// case-insensitively).
	Host string `yaml:"host"`
	// Upstreams are base URLs (scheme and host[:port], no path). Several are
	// used round-robin among the healthy ones.
	Upstreams []string `yaml:"upstreams"`
	// RewriteHost is sent upstream as Host and as the TLS server name, and the
	// upstream certificate is verified for it. Default: Host (no rewrite).
	RewriteHost string `yaml:"rewrite_host"`
	// Headers are set on every upstream request.
	Headers map[string]string `yaml:"headers"`
	// MaxConcurrent bounds in-flight requests on this route; above it the
	// bridge answers 503 with Retry-After. Default 1024.
	MaxConcurrent int `yaml:"max_concurrent"`
	// Timeout bounds the wait for the upstream's response headers (dial, TLS
	// and time to first byte). Streaming bodies and WebSockets are not cut by
	// it. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
}

// UpstreamTLS configures verification of upstream certificates.
type UpstreamTLS struct {
	// CA is a PEM bundle of trusted roots; default: the system roots.
	CA string `yaml:"ca"`
	// InsecureSkipVerify disables verification. For labs only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Limits protect against slowloris and oversized requests.
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds the request line plus headers; larger requests
	// get 431. Go's server allows 4096 bytes of slack above it. Default 32768.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// MaxHeaderCount bounds the number of header fields; more get 431.
	// Default 100.
	MaxHeaderCount int `yaml:"max_header_count"`
}

// HealthPolicy is the passive health check applied to each upstream.
type HealthPolicy struct {
	// Failures is how many consecutive transport failures mark an upstream
	// down. Default 3.
	Failures int `yaml:"failures"`
	// Cooldown is how long a down upstream is skipped. Default 10s.
	Cooldown time.Duration `yaml:"cooldown"`
}

// Defaults, also stated in the field comments above.
const (
	DefaultHTTPAddr          = "127.0.0.1:8080"
	DefaultMetricsAddr       = "127.0.0.1:9090"
	DefaultMaxConcurrent     = 1024
	DefaultTimeout           = 30 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 32 << 10
	DefaultMaxHeaderCount    = 100
	DefaultHealthFailures    = 3
	DefaultHealthCooldown    = 10 * time.Second
	DefaultShutdownTimeout   = 30 * time.Second
)

// Load reads, strictly decodes, defaults and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading bridge config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse is Load for bytes already in memory.
func Parse(data []byte) (*Config, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parsing yaml: %w", err)
	}
	pos := map[string]position{}
	var problems []string
	if len(doc.Content) == 1 {
		checkKnown(doc.Content[0], reflect.TypeOf(Config{}), "", pos, &problems)
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	var cfg Config
	if err := doc.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("decoding bridge config: %w", err)
	}
	cfg.applyDefaults()
	if err := cfg.validate(pos); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// ConfigError lists every problem found in a configuration, each prefixed
// with line:column when known.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid bridge config:\n  " + strings.Join(e.Problems, "\n  ")
}

type position struct{ line, col int }

func (p position) String() string {
	if p.line == 0 {
		return ""
	}
	return fmt.Sprintf("%d:%d: ", p.line, p.col)
}

var durationType = reflect.TypeOf(time.Duration(0))

// checkKnown walks the YAML tree alongside the Go type, reporting keys that
// map to no field (yaml.v3's KnownFields gives no column and stops at the
// first one) and recording the position of every value by its path so
// validation can point at the offending line.
func checkKnown(n *yaml.Node, t reflect.Type, path string, pos map[string]position, problems *[]string) {
	pos[path] = position{n.Line, n.Column}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch {
	case t == durationType:
		return
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				known := make([]string, 0, len(fields))
				for name := range fields {
					known = append(known, name)
				}
				sort.Strings(known)
				*problems = append(*problems, fmt.Sprintf("%d:%d: unknown field %q in %s (known: %s)",
					k.Line, k.Column, k.Value, describePath(path), strings.Join(known, ", ")))
				continue
			}
			checkKnown(v, ft, joinPath(path, k.Value), pos, problems)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			checkKnown(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), pos, problems)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkKnown(n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value), pos, problems)
		}
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func describePath(p string) string {
	if p == "" {
		return "top level"
	}
	return p
}

func (c *Config) applyDefaults() {
	if c.Listeners.HTTP == "" && c.Listeners.HTTPS == nil {
		c.Listeners.HTTP = DefaultHTTPAddr
	}
	c.Listeners.HTTP = defaultHost(c.Listeners.HTTP)
	if c.Listeners.HTTPS != nil {
		c.Listeners.HTTPS.Addr = defaultHost(c.Listeners.HTTPS.Addr)
	}
	switch c.Metrics {
	case "":
		c.Metrics = DefaultMetricsAddr
	case "off":
	default:
		c.Metrics = defaultHost(c.Metrics)
	}
	if c.Limits.ReadHeaderTimeout == 0 {
		c.Limits.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.Limits.IdleTimeout == 0 {
		c.Limits.IdleTimeout = DefaultIdleTimeout
	}
	if c.Limits.MaxHeaderBytes == 0 {
		c.Limits.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.Limits.MaxHeaderCount == 0 {
		c.Limits.MaxHeaderCount = DefaultMaxHeaderCount
	}
	if c.Health.Failures == 0 {
		c.Health.Failures = DefaultHealthFailures
	}
	if c.Health.Cooldown == 0 {
		c.Health.Cooldown = DefaultHealthCooldown
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		r.Host = strings.ToLower(strings.TrimSuffix(r.Host, "."))
		if r.RewriteHost == "" {
			r.RewriteHost = r.Host
		}
		r.RewriteHost = strings.ToLower(strings.TrimSuffix(r.RewriteHost, "."))
		if r.MaxConcurrent == 0 {
			r.MaxConcurrent = DefaultMaxConcurrent
		}
		if r.Timeout == 0 {
			r.Timeout = DefaultTimeout
		}
	}
	c.HealthHost = strings.ToLower(c.HealthHost)
}

// defaultHost binds host-less addresses to loopback: exposing the bridge on
// every interface must be a deliberate choice.
func defaultHost(addr string) string {
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if !strings.Contains(addr, ":") {
			return net.JoinHostPort("127.0.0.1", addr)
		}
		return addr
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

func (c *Config) validate(pos map[string]position) error {
	var problems []string
	add := func(path, format string, args ...any) {
		problems = append(problems, pos[path].String()+path+": "+fmt.Sprintf(format, args...))
	}
	checkAddr := func(path, addr string) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			add(path, "not a host:port address: %v", err)
		}
	}
	if c.Listeners.HTTP != "" {
		checkAddr("listeners.http", c.Listeners.HTTP)
	}
	if h := c.Listeners.HTTPS; h != nil {
		checkAddr("listeners.https.addr", h.Addr)
		if len(h.Certificates) == 0 {
			add("listeners.https", "at least one certificate is required")
		}
		for i, cf := range h.Certificates {
			p := fmt.Sprintf("listeners.https.certificates[%d]", i)
			if cf.Cert == "" || cf.Key == "" {
				add(p, "both cert and key are required")
			}
		}
	}
	if c.Metrics != "off" {
		checkAddr("metrics", c.Metrics)
	}
	if len(c.Routes) == 0 {
		add("routes", "at least one route is required")
	}
	seen := map[string]int{}
	for i, r := range c.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		switch {
		case r.Host == "":
			add(p+".host", "required")
		case !validHostName(r.Host):
			add(p+".host", "%q is not a host name (no port, scheme or path)", r.Host)
		}
		if j, dup := seen[r.Host]; dup && r.Host != "" {
			add(p+".host", "%q is already routed by routes[%d]", r.Host, j)
		}
		seen[r.Host] = i
		if !validHostName(r.RewriteHost) {
			add(p+".rewrite_host", "%q is not a host name", r.RewriteHost)
		}
		if len(r.Upstreams) == 0 {
			add(p+".upstreams", "at least one upstream is required")
		}
		for j, raw := range r.Upstreams {
			if err := checkUpstreamURL(raw); err != nil {
				add(fmt.Sprintf("%s.upstreams[%d]", p, j), "%v", err)
			}
		}
		for name := range r.Headers {
			if !validHeaderName(name) {
				add(p+".headers."+name, "%q is not a valid header name", name)
			}
			if isHopByHop(http.CanonicalHeaderKey(name)) || strings.EqualFold(name, "Host") {
				add(p+".headers."+name, "%q cannot be set here (hop-by-hop or Host: use rewrite_host)", name)
			}
		}
		if r.MaxConcurrent < 0 {
			add(p+".max_concurrent", "must be positive")
		}
		if r.Timeout < 0 {
			add(p+".timeout", "must be positive")
		}
	}
	if c.Limits.ReadHeaderTimeout < 0 || c.Limits.IdleTimeout < 0 {
		add("limits", "timeouts must be positive")
	}
	if c.Limits.MaxHeaderBytes < 0 || c.Limits.MaxHeaderCount < 0 {
		add("limits", "sizes must be positive")
	}
	if c.Health.Failures < 0 || c.Health.Cooldown < 0 {
		add("health", "failures and cooldown must be positive")
	}
	if c.UpstreamTLS.CA != "" {
		if _, err := os.Stat(c.UpstreamTLS.CA); err != nil {
			add("upstream_tls.ca", "%v", err)
		}
	}
	if len(problems) > 0 {
		return &ConfigError{Problems: problems}
	}
	return nil
}

func checkUpstreamURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%q: host is missing", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q: only scheme://host[:port] is allowed", raw)
	}
	return nil
}

func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// errNoConfig is returned by New when given a nil configuration.
var errNoConfig = errors.New("bridge: nil config")
