package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
)

// The lean path parses upstream response heads itself, straight into the
// client's header map: http.ReadResponse builds a Response, a header map of
// its own, a transfer reader and a body wrapper per response, which was the
// largest share of the lean path's allocations. The parser is strict where
// leniency could let two readers disagree about where a response ends.

var (
	errMalformedResponse = errors.New("malformed upstream response")
	errUnsupportedCoding = errors.New("upstream response uses a transfer coding other than chunked")
)

// bodyKind is how the end of a response body is found.
type bodyKind uint8

const (
	bodyNone    bodyKind = iota // HEAD, 1xx, 204, 304
	bodyLength                  // Content-Length
	bodyChunked                 // Transfer-Encoding: chunked
	bodyToClose                 // neither: the body ends when the upstream closes
)

// respHead is what the lean path needs from a response head; the fields
// themselves went into the destination header map.
type respHead struct {
	code   int
	kind   bodyKind
	length int64 // for bodyLength
	close  bool  // the connection cannot carry another exchange
}

// commonKeys maps frequent response field names, as sent, to their
// canonical form without allocating.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept-Ranges", "Access-Control-Allow-Origin", "Age", "Cache-Control", "Connection",
		"Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
		"Content-Range", "Content-Security-Policy", "Content-Type", "Date", "Etag", "Expires",
		"Keep-Alive", "Last-Modified", "Link", "Location", "Server", "Set-Cookie",
		"Strict-Transport-Security", "Trailer", "Transfer-Encoding", "Vary", "Via",
		"X-Amz-Cf-Id", "X-Amz-Cf-Pop", "X-Cache", "X-Content-Type-Options", "X-Frame-Options",
		// Request fields, for the plain listener's own parser.
		"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cookie", "Host",
		"If-Modified-Since", "If-None-Match", "Origin", "Referer", "User-Agent", "Expect", "Upgrade",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-Id", "Te", "Range",
		"Forwarded", "Pragma", "Content-Type", "Dnt",
	} {
		m[k] = k
		m[strings.ToLower(k)] = k
	}
	m["ETag"] = "Etag"
	return m
}()

func canonicalKey(name []byte) string {
	if k, ok := commonKeys[string(name)]; ok {
		return k
	}
	return http.CanonicalHeaderKey(string(name))
}

// readLine returns the next line without its line ending. Lines longer than
// the reader's buffer are assembled; the connection's byte budget bounds
// them.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// isTokenByte reports whether c may appear in a method or field name
// (RFC 9110 tchar). It runs for every byte of every name parsed, so it is a
// table lookup rather than a search of the delimiter set.
func isTokenByte(c byte) bool { return tokenTable[c] }

var tokenTable = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune("\"(),/:;<=>?@[\\]{}", rune(c))
	}
	return t
}()

func validValue(v []byte) bool {
	for _, c := range v {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// readResponseHead reads one response head from br and parses it as
// parseResponseHead does, line by line as the lines arrive: a malformed line
// fails the read at once, without waiting for the rest of the head.
func readResponseHead(br *bufio.Reader, dst http.Header, method string, values []string) (respHead, error) {
	var p respHeadParser
	p.start(dst, method, values)
	for {
		line, err := readLine(br)
		if err != nil {
			return p.h, err
		}
		if done, err := p.line(line); err != nil || done {
			return p.h, err
		}
	}
}

// parseResponseHead parses the response head at the start of b: the status
// line, the fields and the blank line that ends them, lines ending in LF
// with an optional CR before it. It adds the head's end-to-end fields to
// dst (hop-by-hop fields and those named in Connection are left out) and
// returns what the relay needs and the head's length; io.ErrUnexpectedEOF
// when b ends before the head does. method is the request's, for the HEAD
// rule. Single field values are stored in values when it has room: a
// caller that reuses dst per connection passes a backing it also reuses,
// so the usual few fields cost no allocation beyond their strings.
//
// It reads nothing but b. Where it accepts a head, net/http's
// http.ReadResponse accepts it too with the same status and framing; it
// refuses more than net/http, where leniency could let two readers
// disagree about the response (FuzzResponseHead lists each difference).
func parseResponseHead(b []byte, dst http.Header, method string, values []string) (respHead, int, error) {
	var p respHeadParser
	p.start(dst, method, values)
	n := 0
	for {
		i := bytes.IndexByte(b[n:], '\n')
		if i < 0 {
			return p.h, n, io.ErrUnexpectedEOF
		}
		line := b[n : n+i]
		n += i + 1
		if k := len(line); k > 0 && line[k-1] == '\r' {
			line = line[:k-1]
		}
		if done, err := p.line(line); err != nil || done {
			return p.h, n, err
		}
	}
}

// respHeadParser parses a response head fed to it one line at a time
// (without its line ending). It does no I/O: readResponseHead feeds it
// from a connection, parseResponseHead from bytes.
type respHeadParser struct {
	h      respHead
	dst    http.Header
	method string
	values []string
	status bool // the status line was read
	http10 bool

	used      int
	length    int64
	chunked   bool
	connClose bool
	keepAlive bool
	connNamed []string
}

func (p *respHeadParser) start(dst http.Header, method string, values []string) {
	*p = respHeadParser{dst: dst, method: method, values: values, length: -1}
}

// line takes the head's next line; done is true after the blank line that
// ends the head, when p.h is complete.
func (p *respHeadParser) line(line []byte) (done bool, err error) {
	if !p.status {
		return false, p.statusLine(line)
	}
	if len(line) == 0 {
		p.finish()
		return true, nil
	}
	return false, p.field(line)
}

// statusLine parses HTTP/1.x SP 3DIGIT [SP reason].
func (p *respHeadParser) statusLine(line []byte) error {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(line[7] != '0' && line[7] != '1') || (len(line) > 12 && line[12] != ' ') {
		return errMalformedResponse
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return errMalformedResponse
		}
		p.h.code = p.h.code*10 + int(c-'0')
	}
	if p.h.code < 100 {
		return errMalformedResponse
	}
	p.http10 = line[7] == '0'
	if p.values == nil {
		p.values = make([]string, 8)
	}
	clear(p.values)
	p.status = true
	return nil
}

func (p *respHeadParser) field(line []byte) error {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		// Includes obs-fold continuation lines, which a proxy may
		// refuse (RFC 9112 5.2).
		return errMalformedResponse
	}
	name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
	for _, c := range name {
		if !isTokenByte(c) {
			return errMalformedResponse
		}
	}
	if !validValue(value) {
		return errMalformedResponse
	}
	key := canonicalKey(name)
	switch key {
	case "Content-Length":
		n, ok := parseDecimal(value)
		if !ok || (p.length >= 0 && n != p.length) {
			return errMalformedResponse
		}
		if p.length >= 0 {
			return nil // an identical repeat
		}
		p.length = n
	case "Transfer-Encoding":
		if !bytes.EqualFold(value, []byte("chunked")) || p.chunked {
			return errUnsupportedCoding
		}
		p.chunked = true
		return nil
	case "Connection":
		for _, t := range strings.Split(string(value), ",") {
			t = strings.TrimSpace(t)
			switch {
			case strings.EqualFold(t, "close"):
				p.connClose = true
			case strings.EqualFold(t, "keep-alive"):
				p.keepAlive = true
			case t != "":
				p.connNamed = append(p.connNamed, http.CanonicalHeaderKey(t))
			}
		}
		return nil
	}
	if isHopByHop(key) {
		return nil
	}
	v := string(value)
	dst := p.dst
	if old, ok := dst[key]; ok {
		dst[key] = append(old, v)
	} else if p.used < len(p.values) {
		p.values[p.used] = v
		dst[key] = p.values[p.used : p.used+1 : p.used+1]
		p.used++
	} else {
		dst[key] = []string{v}
	}
	return nil
}

// finish decides the framing once every field is in.
func (p *respHeadParser) finish() {
	dst, h := p.dst, &p.h
	for _, k := range p.connNamed {
		delete(dst, k)
	}
	h.close = p.connClose || (p.http10 && !p.keepAlive)
	switch {
	case p.method == http.MethodHead || h.code < 200 || h.code == http.StatusNoContent || h.code == http.StatusNotModified:
		h.kind = bodyNone
		if h.code < 200 {
			// An interim response's fields are not the final response's.
			delete(dst, "Content-Length")
		}
	case p.chunked:
		h.kind = bodyChunked
		if p.length >= 0 {
			// Both framings: chunked wins (RFC 9112 6.3), and the
			// connection is not trusted with another exchange.
			delete(dst, "Content-Length")
			h.close = true
		}
	case p.length >= 0:
		h.kind, h.length = bodyLength, p.length
	default:
		h.kind, h.close = bodyToClose, true
	}
}

// bodyReader reads one response body from an upstream connection.
type bodyReader struct {
	br      *bufio.Reader
	kind    bodyKind
	remain  int64     // bodyLength
	chunks  io.Reader // bodyChunked
	trailer http.Header
}

func (b *bodyReader) reset(br *bufio.Reader, h respHead) {
	*b = bodyReader{br: br, kind: h.kind, remain: h.length}
	if h.kind == bodyChunked {
		b.chunks = httputil.NewChunkedReader(br)
	}
}

// buffered reports whether the rest of the body is already in memory, so
// reading it cannot block.
func (b *bodyReader) buffered() bool {
	return b.kind == bodyNone || b.kind == bodyLength && int64(b.br.Buffered()) >= b.remain
}

// Read returns io.EOF only at the body's proper end; a connection that ends
// early gives io.ErrUnexpectedEOF.
func (b *bodyReader) Read(p []byte) (int, error) {
	switch b.kind {
	case bodyNone:
		return 0, io.EOF
	case bodyLength:
		return readLength(b.br, &b.remain, p)
	case bodyChunked:
		n, err := b.chunks.Read(p)
		if errors.Is(err, io.EOF) {
			if terr := b.readTrailer(); terr != nil {
				return n, terr
			}
		}
		return n, err
	default:
		return b.br.Read(p)
	}
}

// readTrailer reads the trailer section that ends a chunked body.
func (b *bodyReader) readTrailer() error {
	for {
		line, err := readLine(b.br)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return errMalformedResponse
		}
		value := bytes.TrimSpace(line[colon+1:])
		if !validValue(value) {
			return errMalformedResponse
		}
		key := canonicalKey(line[:colon])
		if isHopByHop(key) || key == "Content-Length" {
			continue
		}
		if b.trailer == nil {
			b.trailer = http.Header{}
		}
		b.trailer[key] = append(b.trailer[key], string(value))
	}
}

// readLength reads at most *remain more bytes of a Content-Length body
// from br: io.EOF exactly at the end, io.ErrUnexpectedEOF when the peer
// stops short.
func readLength(br *bufio.Reader, remain *int64, p []byte) (int, error) {
	if *remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > *remain {
		p = p[:*remain]
	}
	n, err := br.Read(p)
	*remain -= int64(n)
	if *remain == 0 {
		return n, io.EOF
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
