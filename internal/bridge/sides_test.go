package bridge

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// side is how clients and upstreams meet the bridge in a test: plain HTTP
// on both sides, or TLS on both (an HTTPS listener with a certificate for
// cdn.example.com, upstreams verified for cdn-new.example.com against the
// test CA). The hardening tests run over both.
type side struct {
	name string
	tls  bool
}

var sides = []side{{"plain", false}, {"tls", true}}

// eachSide runs f as a subtest for every side.
func eachSide(t *testing.T, f func(t *testing.T, e *sideEnv)) {
	for _, sd := range sides {
		t.Run(sd.name, func(t *testing.T) { f(t, sd.env(t)) })
	}
}

// sideEnv is one side's test world: its CA, upstreams and bridge.
type sideEnv struct {
	side
	t     testing.TB
	ca    *testCA
	roots *x509.CertPool
	s     *Server
}

func (sd side) env(t testing.TB) *sideEnv {
	e := &sideEnv{side: sd, t: t}
	if sd.tls {
		e.ca = newTestCA(t)
		e.roots = x509.NewCertPool()
		e.roots.AddCert(e.ca.Cert)
	}
	return e
}

// upstream starts h as an upstream of this side: HTTPS with a certificate
// for the rewritten name, or plain HTTP.
func (e *sideEnv) upstream(h http.Handler) *httptest.Server {
	e.t.Helper()
	up := httptest.NewUnstartedServer(h)
	if e.tls {
		cert, _, _ := e.ca.leaf(e.t, "cdn-new.example.com")
		up.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		up.StartTLS()
	} else {
		up.Start()
	}
	e.t.Cleanup(up.Close)
	return up
}

func (e *sideEnv) recorder(marker string) (*recorder, *httptest.Server) {
	rec := &recorder{}
	return rec, e.upstream(rec.handler(marker))
}

// config is baseConfig for this side: with TLS, the HTTPS listener takes
// the plain one's place and upstreams are verified against the test CA.
func (e *sideEnv) config(upstreams ...string) *Config {
	e.t.Helper()
	cfg := baseConfig(upstreams...)
	if e.tls {
		_, certPEM, keyPEM := e.ca.leaf(e.t, "cdn.example.com")
		cfg.Listeners = Listeners{HTTPS: &HTTPSListener{Addr: "127.0.0.1:0", Certificates: []CertificateFile{
			{Cert: writeFile(e.t, "cert.pem", certPEM), Key: writeFile(e.t, "key.pem", keyPEM)},
		}}}
		cfg.UpstreamTLS.CA = writeFile(e.t, "ca.pem", e.ca.PEM)
	}
	return cfg
}

func (e *sideEnv) start(cfg *Config, opts ...Option) *Server {
	e.t.Helper()
	e.s = startBridge(e.t, cfg, opts...)
	return e.s
}

func (e *sideEnv) scheme() string {
	if e.tls {
		return "https"
	}
	return "http"
}

func (e *sideEnv) addr() string { return e.s.Addr(e.scheme()).String() }

// url is the bridge's listener URL for path.
func (e *sideEnv) url(path string) string { return e.scheme() + "://" + e.addr() + path }

// clientTLS is what a client of the HTTPS listener trusts and asks for.
func (e *sideEnv) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: e.roots, ServerName: "cdn.example.com", NextProtos: []string{"http/1.1"}}
}

// client is an HTTP/1.1 client of the bridge's listener.
func (e *sideEnv) client() *http.Client {
	tr := &http.Transport{TLSClientConfig: e.clientTLS()}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// dial opens a raw client connection (TLS completed on the TLS side).
func (e *sideEnv) dial() net.Conn {
	e.t.Helper()
	return e.dialFor(e.t)
}

// dialFor is dial for t, a test other than the one e was made for (a fuzz
// target's).
func (e *sideEnv) dialFor(t testing.TB) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	if e.tls {
		c, err = tls.Dial("tcp", e.addr(), e.clientTLS())
	} else {
		c, err = net.Dial("tcp", e.addr())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// exchange is rawExchange on this side's listener.
func (e *sideEnv) exchange(req string) string {
	e.t.Helper()
	c := e.dial()
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// listener is the fastServer of this side's listener.
func (e *sideEnv) listener() *fastServer {
	for _, fs := range e.s.fast {
		if (fs.tlsConfig != nil) == e.tls {
			return fs
		}
	}
	e.t.Fatal("no loop serves the listener")
	return nil
}
