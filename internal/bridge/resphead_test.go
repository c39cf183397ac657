package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
)

// FuzzResponseHead holds the plain loops' response parser to net/http's
// http.ReadResponse: for any bytes (a head and whatever follows it) and
// either request method,
//
//   - when parseResponseHead accepts the head, ReadResponse accepts it too,
//     with the same status, the same framing (no body; Content-Length n;
//     chunked; read to close) and the same end-to-end fields; our parser
//     closes the connection whenever net/http would (and also after a head
//     with both framings);
//   - when parseResponseHead says the head is not whole yet, ReadResponse
//     fails too: the two never disagree about where a head ends;
//   - when parseResponseHead refuses a head that ReadResponse accepts, the
//     head has one of the shapes our parser refuses on purpose, where
//     leniency could let two readers disagree about the response
//     (stricterShape names them): a status line other than
//     "HTTP/1.0|1 DDD[ reason]" with a code of at least 100, an obs-fold
//     line, a control character in a value, a transfer coding other than one
//     chunked, a field name that is not a token, or a Content-Length longer
//     than 18 digits.
//
// The fields compared leave out what our parser drops on purpose: the
// hop-by-hop fields and those named in Connection, Content-Length of an
// interim response or of one also chunked; and what net/http adds of its
// own, Cache-Control: no-cache for a lone Pragma: no-cache.
func FuzzResponseHead(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nbody to close",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close, X-Drop\r\nX-Drop: 1\r\nX-Keep: 2\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nEtag: \"v1\"\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.2 200 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 200 OK\nX-Bare: lf\n\n",
		"HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-Ctl: a\x01b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 0123456789012345678\r\n\r\n",
		"HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nUpgrade: h2c\r\nProxy-Connection: x\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
	} {
		f.Add([]byte(seed), false)
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		got := http.Header{}
		h, n, err := parseResponseHead(data, got, method, nil)
		want, werr := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), &http.Request{Method: method})
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			if werr == nil {
				t.Fatalf("%q: our parser wants more of the head, net/http read it whole", data)
			}
			return
		case err != nil:
			if err != errMalformedResponse && err != errUnsupportedCoding {
				t.Fatalf("%q: unexpected error %v", data, err)
			}
			if werr == nil && stricterShape(data[:n]) == "" {
				t.Fatalf("%q: our parser refuses it (%v), net/http accepts it, and it is none of the shapes refused on purpose", data, err)
			}
			return
		case werr != nil:
			t.Fatalf("%q: our parser accepts it, net/http refuses it: %v", data, werr)
		}
		if h.code != want.StatusCode {
			t.Fatalf("%q: status %d, net/http %d", data, h.code, want.StatusCode)
		}
		switch h.kind {
		case bodyLength:
			if want.ContentLength != h.length || len(want.TransferEncoding) != 0 {
				t.Fatalf("%q: length %d, net/http length %d coding %q", data, h.length, want.ContentLength, want.TransferEncoding)
			}
		case bodyChunked:
			if len(want.TransferEncoding) != 1 || want.TransferEncoding[0] != "chunked" {
				t.Fatalf("%q: chunked, net/http coding %q", data, want.TransferEncoding)
			}
		case bodyToClose:
			if want.ContentLength != -1 || len(want.TransferEncoding) != 0 || !want.Close {
				t.Fatalf("%q: read to close, net/http length %d coding %q close %v", data, want.ContentLength, want.TransferEncoding, want.Close)
			}
		case bodyNone:
			if b, _ := io.ReadAll(want.Body); len(b) != 0 {
				t.Fatalf("%q: no body, net/http reads %q", data, b)
			}
		}
		if want.Close && !h.close {
			t.Fatalf("%q: keeps the connection net/http would close", data)
		}
		end := endToEnd(want.Header, rawFields(data), h, got)
		if len(got) == 0 && len(end) == 0 {
			return
		}
		if !reflect.DeepEqual(got, end) {
			t.Fatalf("%q: fields\n got %#v\nwant %#v", data, got, end)
		}
	})
}

// endToEnd is net/http's fields of a response less those our parser drops
// on purpose and those net/http adds of its own (see FuzzResponseHead).
// raw holds the head's fields as sent: net/http deletes a Connection field
// that says close.
func endToEnd(all, raw http.Header, h respHead, got http.Header) http.Header {
	out := http.Header{}
	for k, vv := range all {
		if !isHopByHop(k) {
			out[k] = vv
		}
	}
	for _, v := range raw["Connection"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				delete(out, http.CanonicalHeaderKey(t))
			}
		}
	}
	if h.code < 200 || h.kind == bodyChunked {
		delete(out, "Content-Length")
	}
	if _, ok := got["Cache-Control"]; !ok && len(got["Pragma"]) == 1 && got["Pragma"][0] == "no-cache" {
		delete(out, "Cache-Control")
	}
	return out
}

// rawFields returns the fields of the response head at the start of data as
// textproto reads them, before net/http's own edits.
func rawFields(data []byte) http.Header {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	if _, err := tp.ReadLine(); err != nil {
		return nil
	}
	h, _ := tp.ReadMIMEHeader()
	return http.Header(h)
}

// stricterShape names the shape of a response head that our parser refuses
// on purpose though net/http reads it, or returns "".
func stricterShape(head []byte) string {
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	status := lines[0]
	okStatus := len(status) >= 12 && (strings.HasPrefix(status, "HTTP/1.0 ") || strings.HasPrefix(status, "HTTP/1.1 ")) &&
		strings.Trim(status[9:12], "0123456789") == "" && status[9:12] >= "100" && (len(status) == 12 || status[12] == ' ')
	if !okStatus {
		return "status line"
	}
	codings := 0
	for _, l := range lines[1:] {
		if l == "" {
			break
		}
		if l[0] == ' ' || l[0] == '\t' {
			return "obs-fold"
		}
		name, value, _ := strings.Cut(l, ":")
		if name == "" || strings.IndexFunc(name, func(c rune) bool { return c > 0x7f || !isTokenByte(byte(c)) }) >= 0 {
			return "field name not a token"
		}
		value = strings.Trim(value, " \t")
		if strings.IndexFunc(value, func(c rune) bool { return c < 0x20 && c != '\t' || c == 0x7f }) >= 0 {
			return "control character in a value"
		}
		switch http.CanonicalHeaderKey(name) {
		case "Transfer-Encoding":
			codings++
			if codings > 1 || !strings.EqualFold(value, "chunked") {
				return "transfer coding"
			}
		case "Content-Length":
			if len(value) > 18 {
				return "long Content-Length"
			}
		}
	}
	return ""
}
