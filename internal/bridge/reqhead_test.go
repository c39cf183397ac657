package bridge

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseTargetMatchesParseRequestURI(t *testing.T) {
	var p requestHead
	for _, target := range []string{
		"/", "/ruok", "/a/b.c?x=1&y=2", "/p?", "/q?a=%20b", "/%41b", "/a%2Fb?c", "/x;y=1@z:~'()*+,!$",
		"/sp%20ace", "/a?b#c", "/a#frag", "/caf\xc3\xa9", "//double/slash", "/x?y?z",
	} {
		want, werr := url.ParseRequestURI(target)
		got, gerr := p.parseTarget(target)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: error %v, want %v", target, gerr, werr)
		}
		if werr != nil {
			continue
		}
		if *got != *want || got.RequestURI() != want.RequestURI() {
			t.Fatalf("%q: got %#v, want %#v", target, *got, *want)
		}
	}
}

// FuzzRequestHead holds the plain loop's request parser to net/http's: for
// any head, when parseRequestHead accepts it, http.ReadRequest and the
// checks net/http's server adds (exactly one Host, a valid Host value, valid
// field names and values) accept it too, with the same method, target, URL,
// Host, Content-Length, Connection: close and fields.
//
// The allowed difference is one way only: parseRequestHead may pass a head
// on (errNotFast: net/http's server then takes the connection and decides),
// it never accepts one net/http refuses, and it never refuses one itself.
// One difference in the fields is net/http's own addition, not the parser's:
// it adds Cache-Control: no-cache to a lone Pragma: no-cache.
func FuzzRequestHead(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n",
		"GET /a/b.c?x=1&y=2 HTTP/1.1\r\nHost: cdn.example.com\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 5\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: +5\r\n\r\n",
		"GET /f HTTP/1.1\r\nHost: cdn.example.com\r\nX-A: a\r\n b\r\n\r\n",
		"GET http://evil.example.net/ HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: cdn.example.com\r\nHost: evil.example.net\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: cdn example.com\r\n\r\n",
		"GET / HTTP/1.0\r\nHost: cdn.example.com\r\n\r\n",
		"GET / HTTP/1.1\nHost: cdn.example.com\r\n\r\n",
		"CONNECT evil.example.net:443 HTTP/1.1\r\nHost: evil.example.net:443\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: cdn.example.com\r\nConnection: keep-alive, close\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: cdn.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: cdn.example.com\r\nPragma: no-cache\r\n\r\n",
		"GET /sp%20ace?q=%41#frag HTTP/1.1\r\nHost: [::1]:80\r\nx-lower: v\r\nX-Tab:\tv\t\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: cdn.example.com\r\nX-Ctl: a\x01b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: cdn.example.com\r\nBad Name: v\r\n\r\n",
		"GET / HTTP/1.1\r\n Host: cdn.example.com\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		end := bytes.Index(data, []byte("\r\n\r\n"))
		if end < 0 {
			return // the loop parses only a head it found whole
		}
		head := data[:end+4]
		var p requestHead
		err := parseRequestHead(head, &p)
		if err != nil && err != errNotFast {
			t.Fatalf("parseRequestHead refused %q with %v: it may only pass a head on", head, err)
		}
		want, werr := readRequestAsServer(head)
		if err != nil {
			return // passed on: net/http decides, whatever it decides
		}
		if werr != nil {
			t.Fatalf("parseRequestHead accepted %q, net/http refuses it: %v", head, werr)
		}
		if p.method != want.Method || p.target != want.RequestURI || *p.url != *want.URL ||
			p.host != want.Host || p.length != want.ContentLength || p.close != want.Close {
			t.Fatalf("%q:\n got method %q target %q url %#v host %q length %d close %v\nwant method %q target %q url %#v host %q length %d close %v",
				head, p.method, p.target, *p.url, p.host, p.length, p.close,
				want.Method, want.RequestURI, *want.URL, want.Host, want.ContentLength, want.Close)
		}
		got := p.header.Clone()
		wh := want.Header
		if _, ok := got["Cache-Control"]; !ok && len(got["Pragma"]) == 1 && got["Pragma"][0] == "no-cache" {
			delete(wh, "Cache-Control")
		}
		if len(got) == 0 && len(wh) == 0 {
			return
		}
		if !reflect.DeepEqual(got, wh) {
			t.Fatalf("%q: fields\n got %#v\nwant %#v", head, got, wh)
		}
	})
}

// readRequestAsServer reads head as net/http's server does: http.ReadRequest,
// then the server's own checks of the Host field and of every field.
func readRequestAsServer(head []byte) (*http.Request, error) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return nil, err
	}
	// ReadRequest drops the Host fields; the server looks at them first.
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(head)))
	if _, err := tp.ReadLine(); err != nil {
		return nil, err
	}
	fields, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	hosts, ok := fields["Host"]
	switch {
	case r.ProtoAtLeast(1, 1) && (!ok || len(hosts) == 0) && r.Method != http.MethodConnect:
		return nil, errServerCheck("missing required Host header")
	case len(hosts) > 1:
		return nil, errServerCheck("too many Host headers")
	case len(hosts) == 1 && !serverValidHost(hosts[0]):
		return nil, errServerCheck("malformed Host header")
	}
	for k, vv := range r.Header {
		if k == "" || strings.IndexFunc(k, func(c rune) bool { return c > 0x7f || !isTokenByte(byte(c)) }) >= 0 {
			return nil, errServerCheck("invalid header name")
		}
		for _, v := range vv {
			for i := 0; i < len(v); i++ {
				if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
					return nil, errServerCheck("invalid header value")
				}
			}
		}
	}
	return r, nil
}

type errServerCheck string

func (e errServerCheck) Error() string { return string(e) }

// serverValidHost is net/http's test of a Host value (httpguts.ValidHostHeader):
// letters, digits and these bytes.
func serverValidHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!$%&'()*+,-.:;=[]_~", c) >= 0) {
			return false
		}
	}
	return true
}
