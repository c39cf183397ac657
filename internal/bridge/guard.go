package bridge

import (
	"bytes"
	"net"
	"sync"
)

// Go's HTTP/1 server resolves two smuggling shapes silently instead of
// refusing them: with both Content-Length and Transfer-Encoding it drops
// Content-Length and trusts chunked, and repeated identical Content-Length
// lines are merged into one. By the time a handler runs the evidence is gone
// from http.Request, so guardConn watches the raw bytes the server reads and
// keeps one verdict per request header block, in order. The handler pops the
// verdict for its request and refuses ambiguous framing with 400.
//
// The guard follows message framing itself (Content-Length bodies, chunked
// bodies) to find where the next request starts. Whenever it meets something
// it does not follow (a protocol upgrade, a header block larger than the
// server would accept, a malformed chunk) it stops judging that connection;
// Go's own parser still rejects or re-frames what it reads, so the upstream
// never sees two interpretations of one byte stream.

type guardVerdict struct {
	reason string // empty: framing is unambiguous
}

type guardState uint8

const (
	gHeaders guardState = iota
	gBodyLength
	gChunkSize
	gChunkData
	gChunkDataEnd
	gTrailers
	gPassthrough
)

type guardConn struct {
	net.Conn
	maxHeader int

	mu       sync.Mutex
	state    guardState
	hdr      []byte // header block (or current chunk/trailer line) so far
	remain   int64  // bytes left in a length-delimited body or chunk
	verdicts []guardVerdict
	poisoned string // a request the handler never sees had ambiguous framing
}

func newGuardConn(c net.Conn, maxHeader int) *guardConn {
	return &guardConn{Conn: c, maxHeader: maxHeader}
}

func (g *guardConn) Read(p []byte) (int, error) {
	n, err := g.Conn.Read(p)
	if n > 0 {
		g.mu.Lock()
		if g.state != gPassthrough {
			g.feed(p[:n])
		}
		g.mu.Unlock()
	}
	return n, err
}

// pop returns the verdict for the oldest request not yet handled. ok is false
// when the guard has no opinion (it stopped following the connection).
func (g *guardConn) pop() (v guardVerdict, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.poisoned != "" {
		return guardVerdict{reason: g.poisoned}, true
	}
	if len(g.verdicts) == 0 {
		return guardVerdict{}, false
	}
	v = g.verdicts[0]
	// Shift instead of reslicing so the backing array is reused: there is
	// rarely more than one verdict waiting.
	g.verdicts = g.verdicts[:copy(g.verdicts, g.verdicts[1:])]
	return v, true
}

func (g *guardConn) feed(b []byte) {
	for len(b) > 0 && g.state != gPassthrough {
		switch g.state {
		case gHeaders, gChunkSize, gChunkDataEnd, gTrailers:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				g.hdr = append(g.hdr, b...)
				b = nil
				if len(g.hdr) > g.maxHeader+8192 {
					g.state = gPassthrough // the server rejects it with 431
				}
				continue
			}
			start := len(g.hdr)
			g.hdr = append(g.hdr, b[:i+1]...)
			b = b[i+1:]
			if len(g.hdr) > g.maxHeader+8192 {
				g.state = gPassthrough
				continue
			}
			g.line(bytes.TrimRight(g.hdr[start:], "\r\n"))
		case gBodyLength, gChunkData:
			k := int64(len(b))
			if k > g.remain {
				k = g.remain
			}
			g.remain -= k
			b = b[k:]
			if g.remain == 0 {
				if g.state == gBodyLength {
					g.state = gHeaders
				} else {
					g.state = gChunkDataEnd
				}
			}
		}
	}
}

// line handles the complete line just appended to g.hdr, without its line
// terminator.
func (g *guardConn) line(line []byte) {
	switch g.state {
	case gHeaders:
		if len(line) == 0 {
			if len(bytes.TrimLeft(g.hdr, "\r\n")) == 0 {
				// Blank line before any request line: skip it.
				g.hdr = g.hdr[:0]
				return
			}
			g.endOfHeaders()
			return
		}
		// Keep accumulating the header block.
	case gChunkSize:
		g.hdr = g.hdr[:0]
		size, ok := parseChunkSize(line)
		switch {
		case !ok:
			g.state = gPassthrough
		case size == 0:
			g.state = gTrailers
		default:
			g.remain, g.state = size, gChunkData
		}
	case gChunkDataEnd:
		g.hdr = g.hdr[:0]
		if len(line) != 0 {
			g.state = gPassthrough
			return
		}
		g.state = gChunkSize
	case gTrailers:
		g.hdr = g.hdr[:0]
		if len(line) == 0 {
			g.state = gHeaders
		}
	}
}

func (g *guardConn) endOfHeaders() {
	block := g.hdr
	g.hdr = g.hdr[:0]
	block = bytes.TrimLeft(block, "\r\n")
	if len(block) == 0 {
		return
	}
	reqLine, fields, _ := bytes.Cut(block, []byte("\n"))
	reqLine = bytes.TrimRight(reqLine, "\r")
	method, rest, _ := bytes.Cut(reqLine, []byte(" "))
	target, proto, _ := bytes.Cut(rest, []byte(" "))
	if !bytes.HasPrefix(proto, []byte("HTTP/1.")) {
		g.state = gPassthrough
		return
	}
	http10 := bytes.Equal(proto, []byte("HTTP/1.0"))

	var (
		clCount, teCount int
		clValue          []byte
		upgrade, connUpg bool
	)
	eachField(fields, func(name, v []byte) {
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			clCount++
			clValue = v
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			teCount++
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = true
		case bytes.EqualFold(name, []byte("Connection")):
			if containsFold(v, []byte("upgrade")) {
				connUpg = true
			}
		}
	})
	var v guardVerdict
	switch {
	case clCount > 0 && teCount > 0:
		v.reason = "both Content-Length and Transfer-Encoding"
	case clCount > 1:
		v.reason = "repeated Content-Length"
	case teCount > 0 && http10:
		v.reason = "Transfer-Encoding on HTTP/1.0"
	}
	// "OPTIONS *" is answered by the server itself; no handler pops for it.
	if bytes.Equal(method, []byte("OPTIONS")) && bytes.Equal(target, []byte("*")) {
		if v.reason != "" {
			g.poisoned = v.reason
		}
	} else {
		g.verdicts = append(g.verdicts, v)
	}
	switch {
	case v.reason != "":
		// The connection is closed after the 400; stop following it.
		g.state = gPassthrough
	case upgrade && connUpg:
		g.state = gPassthrough
	case teCount > 0:
		g.state = gChunkSize
	case clCount == 1:
		n, ok := parseDecimal(clValue)
		switch {
		case !ok:
			g.state = gPassthrough
		case n == 0:
			g.state = gHeaders
		default:
			g.remain, g.state = n, gBodyLength
		}
	default:
		g.state = gHeaders
	}
}

// eachField calls fn with every header field of a block (the lines after the
// request line) and its trimmed value. Blocks without obs-fold are walked in
// place; folded continuation lines are joined to their field first, as the
// server's parser does.
func eachField(fields []byte, fn func(name, value []byte)) {
	if bytes.Contains(fields, []byte("\n ")) || bytes.Contains(fields, []byte("\n\t")) ||
		(len(fields) > 0 && (fields[0] == ' ' || fields[0] == '\t')) {
		eachFoldedField(fields, fn)
		return
	}
	for len(fields) > 0 {
		var l []byte
		l, fields, _ = bytes.Cut(fields, []byte("\n"))
		name, value, ok := bytes.Cut(bytes.TrimRight(l, "\r"), []byte(":"))
		if !ok {
			continue // the server rejects the request
		}
		fn(name, bytes.TrimSpace(value))
	}
}

func eachFoldedField(fields []byte, fn func(name, value []byte)) {
	var (
		names, values [][]byte
		prev          *[]byte
	)
	for _, l := range bytes.Split(fields, []byte("\n")) {
		l = bytes.TrimRight(l, "\r")
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') && prev != nil {
			// obs-fold: a continuation of the previous value.
			*prev = append(append(*prev, ' '), bytes.TrimSpace(l)...)
			continue
		}
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		names = append(names, name)
		values = append(values, append([]byte(nil), bytes.TrimSpace(value)...))
		prev = &values[len(values)-1]
	}
	for i, name := range names {
		fn(name, values[i])
	}
}

// containsFold reports whether s contains the lower-case ASCII sub,
// ignoring case.
func containsFold(s, sub []byte) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if bytes.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func parseChunkSize(line []byte) (int64, bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range line {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
