package bridge

import (
	"bytes"
	"net/http"
	"net/url"
)

// requestHead is a request head as the plain loop's parser reads it. It
// owns the storage its fields point into (the header map, one backing array
// for single values, the URL), so that a connection reusing one requestHead
// for all its requests parses the usual head without allocating beyond its
// strings. A parse overwrites everything the previous one left.
type requestHead struct {
	method string      // canonical for the usual methods
	target string      // the request target as sent (RequestURI)
	url    *url.URL    // target parsed; &u or a URL of its own
	header http.Header // every field but Host
	host   string
	length int64 // Content-Length, 0 when absent
	close  bool  // Connection: close

	u      url.URL
	values [16]string
}

// parseRequestHead parses a complete request head (request line and fields,
// ending in CRLF CRLF) into p. It reads nothing but head and keeps no state
// beyond p: the plain loop calls it on the bytes it has buffered.
//
// It accepts only the unremarkable kind (see the comment at the top of
// fast.go) and returns errNotFast for everything else: it never rejects a
// request itself, it passes it on to net/http, which accepts or refuses it.
// What it accepts, net/http's server accepts too, with the same method,
// target, Host, fields, length and Connection: close (FuzzRequestHead holds
// it to that).
func parseRequestHead(head []byte, p *requestHead) error {
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return errNotFast
	}
	method := line[:sp1]
	line = line[sp1+1:]
	sp2 := bytes.IndexByte(line, ' ')
	if sp2 <= 0 || !bytes.Equal(line[sp2+1:], []byte("HTTP/1.1")) {
		return errNotFast
	}
	target := line[:sp2]
	if target[0] != '/' {
		return errNotFast // absolute form, "*" and authority form
	}
	for _, c := range method {
		if !isTokenByte(c) {
			return errNotFast
		}
	}
	for _, c := range target {
		if c <= 0x20 || c >= 0x7f {
			return errNotFast
		}
	}
	var m string
	switch string(method) { // no allocation for the usual methods
	case http.MethodGet:
		m = http.MethodGet
	case http.MethodHead:
		m = http.MethodHead
	case http.MethodPost:
		m = http.MethodPost
	case http.MethodPut:
		m = http.MethodPut
	case http.MethodDelete:
		m = http.MethodDelete
	case http.MethodOptions:
		m = http.MethodOptions
	case http.MethodPatch:
		m = http.MethodPatch
	case http.MethodConnect:
		return errNotFast
	default:
		m = string(method)
	}

	if p.header == nil {
		p.header = make(http.Header, 16)
	}
	h := p.header
	clear(h)
	var (
		host       string
		hosts, cls int
		length     int64
		closeConn  bool
		used       int
	)
	// Single values share the head's backing array: the header map is
	// cleared for every request and nothing keeps its values beyond the
	// request.
	clear(p.values[:])
	values := p.values[:]
	rest = rest[:len(rest)-2] // the final CRLF
	for len(rest) > 0 {
		var l []byte
		l, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		colon := bytes.IndexByte(l, ':')
		if colon <= 0 {
			return errNotFast // includes obs-fold and bare LF
		}
		name, value := l[:colon], bytes.Trim(l[colon+1:], " \t")
		for _, c := range name {
			if !isTokenByte(c) {
				return errNotFast
			}
		}
		for _, c := range value {
			if (c < 0x20 && c != '\t') || c == 0x7f {
				return errNotFast
			}
		}
		key := canonicalKey(name)
		switch key {
		case "Host":
			hosts++
			host = string(value)
			if !validHost(value) {
				return errNotFast
			}
			continue
		case "Content-Length":
			cls++
			n, ok := parseDecimal(value)
			if !ok || n > maxLeanBody || cls > 1 {
				return errNotFast
			}
			length = n
		case "Transfer-Encoding", "Upgrade", "Expect", "Trailer":
			return errNotFast
		case "Connection":
			if containsFold(value, []byte("upgrade")) {
				return errNotFast
			}
			if containsFold(value, []byte("close")) && valuesContainToken([]string{string(value)}, "close") {
				closeConn = true
			}
		}
		v := string(value)
		if old, ok := h[key]; ok {
			h[key] = append(old, v)
		} else if used < len(values) {
			values[used] = v
			h[key] = values[used : used+1 : used+1]
			used++
		} else {
			h[key] = []string{v}
		}
	}
	if hosts != 1 {
		return errNotFast
	}
	uri := string(target)
	u, err := p.parseTarget(uri)
	if err != nil {
		return errNotFast
	}
	p.method, p.target, p.url, p.host = m, uri, u, host
	p.length, p.close = length, closeConn
	return nil
}

// parseTarget parses an origin-form target. The common target (a path of
// characters that need no escaping, an optional query) is split in place
// into the head's URL; anything else goes through url.ParseRequestURI.
func (p *requestHead) parseTarget(uri string) (*url.URL, error) {
	path, query, hasQuery := uri, "", false
	for i := 0; i < len(uri); i++ {
		c := uri[i]
		if c == '?' {
			path, query, hasQuery = uri[:i], uri[i+1:], true
			break
		}
		if !plainPathByte(c) {
			return url.ParseRequestURI(uri)
		}
	}
	for i := 0; i < len(query); i++ {
		if query[i] == '#' {
			return url.ParseRequestURI(uri)
		}
	}
	p.u = url.URL{Path: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
	return &p.u, nil
}

// plainPathByte reports whether c stands for itself in a path the way
// net/url escapes one (it escapes some sub-delims RFC 3986 would allow), so
// that RequestURI gives the target back unchanged.
func plainPathByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '$', '&', '+', ',', ';', '=', ':', '@', '/':
		return true
	}
	return false
}

// validHost accepts the characters a Host header may carry (reg-name,
// IPv4, bracketed IPv6, port).
func validHost(v []byte) bool {
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case bytes.IndexByte([]byte("-._~:[]%!$&'()*+,;="), c) >= 0:
		default:
			return false
		}
	}
	return true
}
