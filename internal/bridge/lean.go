package bridge

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The lean path forwards the common request (no body, or a small body with
// Content-Length; no upgrade, no Expect, no trailers) over a pooled HTTP/1.1
// connection entirely on the handler's goroutine: the request line and
// headers are written straight into the connection's buffer, the response is
// parsed from a pooled reader and streamed to the client. net/http's
// Transport instead hands every request to a per-connection write goroutine
// and every response back from a read goroutine; on a loaded machine those
// hand-offs and their scheduler wake-ups cost more than the forwarding
// itself. Everything else still goes through httputil.ReverseProxy.

// maxLeanBody bounds request bodies on the lean path. The body is written
// before the response is read (no full duplex), which is only safe when it
// fits in the socket buffers; larger uploads take the ReverseProxy path.
const maxLeanBody = 64 << 10

// max1xx bounds informational responses accepted before the final one.
const max1xx = 5

var (
	errInvalidHeader = errors.New("request header value contains a line break")
	errTooMany1xx    = errors.New("upstream sent too many 1xx responses")
	errUnexpected101 = errors.New("upstream switched protocols without an upgrade request")
	aLongTimeAgo     = time.Unix(1, 0)
	viaOnly          = []string{viaValue}
)

// leanEligible reports whether r can take the lean path.
func leanEligible(r *http.Request) bool {
	if r.ContentLength < 0 || r.ContentLength > maxLeanBody || len(r.TransferEncoding) > 0 ||
		r.Trailer != nil || r.Method == http.MethodConnect {
		return false
	}
	h := r.Header
	if _, ok := h["Upgrade"]; ok {
		return false
	}
	if _, ok := h["Expect"]; ok {
		return false
	}
	return true
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// attemptError says how far an exchange got before it failed.
type attemptError struct {
	err error
	// silent: nothing at all came back from the upstream, so a request
	// without a body may be replayed on another connection when this one
	// was a reused keep-alive connection the upstream had already closed.
	silent bool
}

// forwardLean forwards r to up on the lean path.
func (s *Server) forwardLean(w *statusWriter, r *http.Request, rt *route, up *Upstream) {
	ctx := r.Context()
	p := up.conns
	hdr := w.Header()
	var (
		uc   *upConn
		head respHead
		stop func() bool
		ae   attemptError
	)
	for attempt := 0; ; attempt++ {
		uc = nil
		if attempt == 0 {
			uc = p.get()
		}
		if uc == nil {
			dctx, cancel := context.WithTimeout(ctx, up.timeout)
			var err error
			uc, err = p.dial(dctx)
			cancel()
			if err != nil {
				s.upstreamFailed(w, r, rt, up, err)
				return
			}
		}
		// A client that leaves aborts the upstream exchange, as it would
		// with the Transport.
		c := uc.conn
		if fc, ok := ctx.Value(fastConnKey).(*fastConn); ok {
			stop = fc.abortOnLeave(c)
		} else {
			stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(aLongTimeAgo) })
		}
		head, ae = rt.roundTrip(uc, w, r, up.timeout)
		if ae.err == nil {
			break
		}
		stop()
		uc.close()
		clear(hdr) // whatever part of a head was parsed is not for the client
		var ne net.Error
		timedOut := errors.As(ae.err, &ne) && ne.Timeout()
		if !uc.reused || !ae.silent || timedOut || r.ContentLength != 0 || !idempotent(r.Method) ||
			ctx.Err() != nil || attempt > 0 {
			s.upstreamFailed(w, r, rt, up, ae.err)
			return
		}
	}
	s.relay(w, r, rt, up, uc, head, stop)
}

// relay streams the response whose head was read from uc into w's header
// map to the client, then returns uc to its pool or closes it. stop ends
// the watch that cuts uc short when the client leaves.
func (s *Server) relay(w *statusWriter, r *http.Request, rt *route, up *Upstream, uc *upConn, head respHead, stop func() bool) {
	ctx := r.Context()
	p := up.conns
	hdr := w.Header()
	up.ReportSuccess()
	body := &uc.body
	body.reset(uc.br, head)
	if !body.buffered() {
		// The timeout covers waiting for headers only; a body still to
		// come may stream for as long as it takes.
		_ = uc.conn.SetDeadline(time.Time{})
		uc.deadline = time.Time{}
	}
	if ctx.Err() != nil {
		stop()
		uc.close()
		clear(hdr)
		w.status = 499
		return
	}

	if via := hdr["Via"]; len(via) > 0 {
		hdr["Via"] = append(via, viaValue)
	} else {
		hdr["Via"] = viaOnly // shared: nothing edits a response's header values once it is written
	}
	w.WriteHeader(head.code)

	clean, upErr := copyBody(w, body, head.kind != bodyLength)
	if !stop() {
		clean = false // the client left; the deadline was cut short
	}
	for k, vv := range body.trailer {
		hdr[http.TrailerPrefix+k] = vv
	}
	if clean && !head.close && uc.br.Buffered() == 0 {
		p.put(uc)
	} else {
		uc.close()
	}
	if upErr != nil {
		if ctx.Err() != nil {
			w.status = 499
			return
		}
		rt.metrics.upErrors.Inc()
		up.ReportFailure()
		// Headers are out already: break the client connection so a cut
		// body is never taken for a complete one.
		panic(http.ErrAbortHandler)
	}
}

// resume finishes an exchange the event loop started: the request is out,
// the response is read from res.uc.
func (s *Server) resume(w *statusWriter, r *http.Request, res *resumed, stop func() bool) {
	rt, up, uc := res.rt, res.up, res.uc
	w.upstream = up.URL.Host
	defer s.record(res.t, rt, w, r, res.start)
	defer rt.release()
	uc.deadline = res.deadline
	var (
		h  respHead
		ae attemptError
	)
	if err := uc.conn.SetDeadline(res.deadline); err != nil {
		ae.err = err
	} else {
		h, ae = readHead(uc, w, r)
	}
	if ae.err != nil {
		stop()
		uc.close()
		clear(w.Header())
		s.upstreamFailed(w, r, rt, up, ae.err)
		return
	}
	s.relay(w, r, rt, up, uc, h, stop)
}

// abandon releases an exchange that cannot be finished.
func (res *resumed) abandon() {
	res.uc.close()
	res.rt.release()
}

// roundTrip writes r on uc and reads the final response's head into w's
// header map, all within timeout. Interim responses other than 100 are
// passed on to the client, as ReverseProxy does.
func (rt *route) roundTrip(uc *upConn, w http.ResponseWriter, r *http.Request, timeout time.Duration) (respHead, attemptError) {
	// Moving a socket deadline costs two timer updates in the runtime, a
	// visible share of a small request. A connection kept busy keeps its
	// deadline until less than timeout is left, then gets timeout plus an
	// eighth: the wait is bounded by timeout to timeout*9/8.
	if want := time.Now().Add(timeout); uc.deadline.Before(want) {
		d := want.Add(timeout / 8)
		if err := uc.conn.SetDeadline(d); err != nil {
			return respHead{}, attemptError{err: err, silent: true}
		}
		uc.deadline = d
	}
	if err := rt.writeRequest(uc.bw, r); err != nil {
		return respHead{}, attemptError{err: err}
	}
	if r.ContentLength > 0 {
		if err := copyRequestBody(uc.bw, r); err != nil {
			return respHead{}, attemptError{err: err}
		}
	}
	if err := uc.bw.Flush(); err != nil {
		return respHead{}, attemptError{err: err, silent: true}
	}
	return readHead(uc, w, r)
}

// readHead reads the final response's head from uc into w's header map,
// passing interim responses other than 100 on to the client.
func readHead(uc *upConn, w http.ResponseWriter, r *http.Request) (respHead, attemptError) {
	if _, err := uc.br.Peek(1); err != nil {
		return respHead{}, attemptError{err: err, silent: true}
	}
	uc.src.n = maxResponseHeaderBytes
	defer func() { uc.src.n = math.MaxInt64 }()
	h := w.Header()
	values := responseValues(w)
	for n := 0; ; n++ {
		head, err := readResponseHead(uc.br, h, r.Method, values)
		if err != nil {
			return head, attemptError{err: err}
		}
		switch {
		case head.code >= 200:
			return head, attemptError{}
		case head.code == http.StatusSwitchingProtocols:
			return head, attemptError{err: errUnexpected101}
		case n >= max1xx:
			return head, attemptError{err: errTooMany1xx}
		case head.code != http.StatusContinue: // the client did not ask for 100
			w.WriteHeader(head.code)
		}
		clear(h)
	}
}

// responseValues returns a backing for response header values that lives
// as long as w's header map, or nil. The plain loop clears its header map for
// every request and nothing keeps the values past the response, so one array
// per client connection serves all its responses.
func responseValues(w http.ResponseWriter) []string {
	if sw, ok := w.(*statusWriter); ok {
		w = sw.ResponseWriter
	}
	if fw, ok := w.(*fastWriter); ok {
		return fw.values[:]
	}
	return nil
}

// writeRequest writes the request line and headers of the forwarded request.
func (rt *route) writeRequest(bw *bufio.Writer, r *http.Request) error {
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(r.URL.RequestURI())
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(rt.rewrite)
	bw.WriteString("\r\n")

	connTokens := r.Header["Connection"]
	teTrailers := false
	for k, vv := range r.Header {
		switch k {
		case "Content-Length", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
			continue
		case "Te":
			teTrailers = teTrailers || valuesContainToken(vv, "trailers")
			continue
		}
		if isHopByHop(k) || rt.setsHeader(k) || (len(connTokens) > 0 && valuesContainToken(connTokens, k)) {
			continue
		}
		for _, v := range vv {
			if strings.ContainsAny(v, "\r\n") {
				return errInvalidHeader
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}

	// Append to the chain the load balancer in front already started.
	bw.WriteString("X-Forwarded-For: ")
	for _, v := range r.Header["X-Forwarded-For"] {
		if strings.ContainsAny(v, "\r\n") {
			return errInvalidHeader
		}
		bw.WriteString(v)
		bw.WriteString(", ")
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	bw.WriteString(ip)
	bw.WriteString("\r\nX-Forwarded-Host: ")
	bw.WriteString(r.Host)
	bw.WriteString("\r\nX-Forwarded-Proto: ")
	scheme, _ := r.Context().Value(schemeKey).(string)
	if scheme == "" {
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
	}
	bw.WriteString(scheme)
	bw.WriteString("\r\nVia: " + viaValue + "\r\n")
	if teTrailers {
		bw.WriteString("Te: trailers\r\n")
	}
	for _, h := range rt.headers {
		bw.WriteString(h[0])
		bw.WriteString(": ")
		bw.WriteString(h[1])
		bw.WriteString("\r\n")
	}
	switch {
	case r.ContentLength > 0:
		var num [20]byte
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(num[:0], r.ContentLength, 10))
		bw.WriteString("\r\n")
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		// Many servers expect a length on POST, PUT and the like even
		// when it is zero.
		bw.WriteString("Content-Length: 0\r\n")
	}
	_, err = bw.WriteString("\r\n")
	return err
}

// setsHeader reports whether the route replaces header k.
func (rt *route) setsHeader(k string) bool {
	for _, h := range rt.headers {
		if h[0] == k {
			return true
		}
	}
	return false
}

// copyRequestBody streams exactly ContentLength bytes, flushing as they
// arrive so a slow client's body reaches the upstream piece by piece.
func copyRequestBody(bw *bufio.Writer, r *http.Request) error {
	bp := copyBuffers.get()
	defer copyBuffers.put(bp)
	buf := *bp
	remain := r.ContentLength
	for remain > 0 {
		chunk := buf
		if int64(len(chunk)) > remain {
			chunk = chunk[:remain]
		}
		n, err := r.Body.Read(chunk)
		if n > 0 {
			remain -= int64(n)
			if _, werr := bw.Write(chunk[:n]); werr != nil {
				return werr
			}
			if remain > 0 {
				if werr := bw.Flush(); werr != nil {
					return werr
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) && remain == 0 {
				break
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// copyBody streams the response body to the client. clean reports that the
// body was read to its end and everything was written, so the upstream
// connection can serve another request; upErr is a failure reading the
// upstream (a failure writing to the client is the client's business).
// Bodies of unknown length (chunked, event streams, read to close) are
// flushed per read so streaming responses are not held back.
func copyBody(w *statusWriter, body *bodyReader, flush bool) (clean bool, upErr error) {
	if body.kind == bodyNone {
		return true, nil
	}
	bp := copyBuffers.get()
	defer copyBuffers.put(bp)
	buf := *bp
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return false, nil
			}
			if flush {
				w.Flush()
			}
		}
		if err == io.EOF {
			return body.kind != bodyToClose, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// valuesContainToken reports whether a comma-separated header list names
// token (case-insensitively).
func valuesContainToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// upstreamFailed answers a request whose upstream exchange failed before
// any response header reached the client.
func (s *Server) upstreamFailed(w http.ResponseWriter, r *http.Request, rt *route, up *Upstream, err error) {
	if r.Context().Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
		// The client went away; the upstream did nothing wrong.
		if sw, ok := w.(*statusWriter); ok {
			sw.status = 499
		}
		return
	}
	if errors.Is(err, errInvalidHeader) {
		s.reject(w, "header", http.StatusBadRequest, "bridge: invalid header value\n")
		return
	}
	rt.metrics.upErrors.Inc()
	up.ReportFailure()
	code := http.StatusBadGateway
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		code = http.StatusGatewayTimeout
	}
	plain(w, code, "bridge: upstream "+up.URL.Host+" for "+rt.host+" failed\n")
}
