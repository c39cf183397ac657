package bridge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The plain-HTTP listener serves the common keep-alive request with its own
// small HTTP/1.1 loop instead of net/http's server. Per request net/http
// creates a cancelable context, starts a background read of the connection
// (a goroutine wake-up and a read that usually finds nothing), and clones
// the header map when the response starts; on a busy machine that costs
// more than the forwarding itself.
//
// The loop is deliberately narrow. It takes a request only when its head is
// unremarkable: origin-form target, HTTP/1.1, CRLF line endings, one Host,
// at most one Content-Length with a small body, no Transfer-Encoding,
// Upgrade or Expect, no obs-fold, only valid tokens and values, all within
// a few KiB. Anything else, including everything it does not understand,
// is handed over untouched (the bytes already read are replayed) to a
// net/http server behind the framing guard, which serves that connection
// from then on. So the loop never needs to judge ambiguous framing: it
// only ever accepts the unambiguous kind.

// fastHeadLimit bounds request heads the loop parses itself; larger heads
// go to net/http, which applies MaxHeaderBytes.
const fastHeadLimit = 8 << 10

// watchDelay is how long a request may run before the loop starts watching
// its connection for a client that leaves. Watching costs a goroutine
// wake-up and a read per request, so quick requests skip it.
const watchDelay = 50 * time.Millisecond

var (
	fastReaderPool sync.Pool // *bufio.Reader of fastHeadLimit bytes
	fastWriterPool sync.Pool // *bufio.Writer
	errNotFast     = errors.New("request head needs the general server")
)

// connState values of a fastConn.
const (
	fcIdle int32 = iota // waiting for a request: may be closed by Shutdown
	fcActive
	fcClosed
)

// fastServer runs the loop on one listener and owns the net/http server
// that takes the connections the loop hands over.
type fastServer struct {
	s         *Server
	l         net.Listener
	fallback  *http.Server
	handoff   *handoffListener
	lim       Limits
	headLimit int
	// tlsConfig terminates TLS on the listener's connections (the HTTPS
	// listener); nil: plain HTTP. scheme is what the loops report
	// upstream in X-Forwarded-Proto.
	tlsConfig *tls.Config
	scheme    string

	draining atomic.Bool
	mu       sync.Mutex
	conns    map[*fastConn]struct{}

	// ev is the event loop in front of the goroutine loop; nil where there
	// is none (see evloop_linux.go).
	ev *evServer

	served, handedOver atomic.Int64 // requests served by the loops; connections handed to net/http
	evServed, escaped  atomic.Int64 // of those, by the event loop; connections it passed to goroutines
}

func newFastServer(s *Server, l net.Listener, fallback *http.Server) *fastServer {
	lim := s.cfg.Limits
	hl := fastHeadLimit
	if lim.MaxHeaderBytes < hl {
		hl = lim.MaxHeaderBytes
	}
	return &fastServer{
		s: s, l: l, fallback: fallback, lim: lim, headLimit: hl, scheme: "http",
		handoff: newHandoffListener(l.Addr()),
		conns:   map[*fastConn]struct{}{},
	}
}

// serve accepts until the listener closes.
func (f *fastServer) serve() error {
	go func() { _ = f.fallback.Serve(f.handoff) }()
	for {
		c, err := f.l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if f.draining.Load() {
				return http.ErrServerClosed
			}
			return err
		}
		if f.tlsConfig != nil {
			go f.handshake(c)
			continue
		}
		if f.ev != nil {
			f.ev.adopt(c)
			continue
		}
		f.goServe(c, nil, nil)
	}
}

// handshake completes TLS on an accepted connection within the read-header
// timeout, on a goroutine of its own so that a slow client cannot stall
// Accept. HTTP/2 connections go to net/http, which speaks it; HTTP/1.1
// connections to the loops like plain ones.
func (f *fastServer) handshake(c net.Conn) {
	lc := newLoopConn(c)
	tc := tls.Server(lc, f.tlsConfig)
	if c.SetDeadline(time.Now().Add(f.lim.ReadHeaderTimeout)) != nil || tc.Handshake() != nil ||
		c.SetDeadline(time.Time{}) != nil {
		_ = c.Close()
		return
	}
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		f.handoff.give(tc)
		return
	}
	if f.ev != nil {
		f.ev.adoptTLS(c, &evTLS{tc: tc, lc: lc})
		return
	}
	f.goServe(tc, nil, nil)
}

// goServe serves c on a goroutine of its own. pre and res are what the
// event loop passes on with a connection (see fastConn.serve).
func (f *fastServer) goServe(c net.Conn, pre []byte, res *resumed) {
	fc := &fastConn{f: f, conn: c}
	f.mu.Lock()
	if f.draining.Load() && pre == nil && res == nil {
		f.mu.Unlock()
		_ = c.Close()
		return
	}
	f.conns[fc] = struct{}{}
	f.mu.Unlock()
	go fc.serve(pre, res)
}

// shutdown stops accepting, closes idle connections as they become idle and
// waits for the active ones until ctx ends; then it closes what is left.
func (f *fastServer) shutdown(ctx context.Context) error {
	f.draining.Store(true)
	_ = f.l.Close()
	// Also closed by the fallback server's Shutdown, unless that server
	// never got to Serve.
	_ = f.handoff.Close()
	if f.ev != nil {
		f.ev.drain()
		defer f.ev.stop()
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		f.mu.Lock()
		for fc := range f.conns {
			if fc.state.CompareAndSwap(fcIdle, fcClosed) {
				_ = fc.conn.Close()
			}
		}
		left := len(f.conns)
		f.mu.Unlock()
		if f.ev != nil {
			left += int(f.ev.open())
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			f.mu.Lock()
			for fc := range f.conns {
				_ = fc.conn.Close()
			}
			f.mu.Unlock()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (f *fastServer) forget(fc *fastConn) {
	f.mu.Lock()
	delete(f.conns, fc)
	f.mu.Unlock()
}

// fastConn is one client connection served by the loop.
type fastConn struct {
	f     *fastServer
	conn  net.Conn
	state atomic.Int32

	src      clientSrc
	br       *bufio.Reader
	bw       *bufio.Writer
	deadline time.Time // current read deadline; zero: none or unknown
	ctx      context.Context
	cancel   context.CancelFunc
	remote   string

	req  *http.Request
	head requestHead // the parsed head fc.req is built from
	body fastBody
	w    fastWriter
	sw   statusWriter

	// Watching for a client that leaves while a request runs.
	watchMu    sync.Mutex
	watchOn    bool // a request is running and may be watched
	watching   bool // the watch read has started
	watchDone  chan struct{}
	watchTimer *time.Timer

	// The upstream connection to cut when the client leaves (see
	// abortOnLeave); guarded by watchMu.
	abortConn  net.Conn
	abortFired bool
	stopAbort  func() bool // fc.releaseAbort, bound once per connection
}

// clientSrc is what the connection's reader reads from: the bytes the
// event loop had read before it passed the connection on, then the
// connection, after a byte the watch read may have taken.
type clientSrc struct {
	conn    net.Conn
	pre     []byte
	pending byte
	has     bool
}

func (c *clientSrc) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	if c.has && len(p) > 0 {
		p[0] = c.pending
		c.has = false
		return 1, nil
	}
	return c.conn.Read(p)
}

// resumed is an exchange the event loop started and passes on to a
// goroutine: the request went out, and the response is of a kind the loop
// does not relay itself (large, chunked, interim responses, read to close).
type resumed struct {
	head     []byte  // the request head as the client sent it
	uc       *upConn // the upstream connection, response bytes already read replayed
	t        *table
	rt       *route
	up       *Upstream
	start    time.Time
	deadline time.Time // for the response head
}

// serve runs the connection's request loop. pre are bytes the event loop
// read from the connection before passing it on; res, when set, is the
// exchange in progress that it passed on with it.
func (fc *fastConn) serve(pre []byte, res *resumed) {
	f := fc.f
	handed := false
	defer func() {
		fc.stopWatch()
		if fc.cancel != nil {
			fc.cancel()
		}
		if !handed {
			_ = fc.conn.Close()
			if fc.br != nil {
				fc.src.conn = nil
				fc.br.Reset(nil)
				fastReaderPool.Put(fc.br)
			}
		}
		if fc.bw != nil {
			fc.bw.Reset(nil)
			fastWriterPool.Put(fc.bw)
		}
		f.forget(fc)
	}()
	fc.src.conn, fc.src.pre = fc.conn, pre
	if v := fastReaderPool.Get(); v != nil {
		fc.br = v.(*bufio.Reader)
		fc.br.Reset(&fc.src)
	} else {
		fc.br = bufio.NewReaderSize(&fc.src, fastHeadLimit)
	}
	fc.remote = fc.conn.RemoteAddr().String()
	first := true
	if res != nil {
		first = false
		if !fc.state.CompareAndSwap(fcIdle, fcActive) || fc.buildRequest(res.head) != nil {
			res.abandon()
			return
		}
		// The loop forwarded the body already.
		fc.req.Body, fc.body = http.NoBody, fastBody{}
		if !fc.serveOne(0, res) {
			return
		}
		if f.draining.Load() || !fc.state.CompareAndSwap(fcActive, fcIdle) {
			return
		}
	}
	for {
		if !fc.awaitRequest(first) {
			return
		}
		first = false
		if !fc.state.CompareAndSwap(fcIdle, fcActive) {
			return // closed by Shutdown
		}
		n, err := fc.parseHead()
		if err != nil {
			if errors.Is(err, errNotFast) {
				handed = true
				fc.handOver()
			}
			return
		}
		f.served.Add(1)
		if !fc.serveOne(n, nil) {
			return
		}
		if f.draining.Load() || !fc.state.CompareAndSwap(fcActive, fcIdle) {
			return
		}
	}
}

// awaitRequest waits for the first byte of the next request: within the
// read-header timeout on a new connection, within the idle timeout on a
// kept-alive one. The deadline is moved only when less than the read-header
// timeout is left, as on upstream connections: moving it costs timer
// updates in the runtime.
func (fc *fastConn) awaitRequest(first bool) bool {
	start := time.Now()
	if fc.br.Buffered() > 0 {
		return fc.ensureHeadDeadline(start)
	}
	lim := fc.f.lim
	if !fc.ensureHeadDeadline(start) {
		return false
	}
	for {
		_, err := fc.br.Peek(1)
		if err == nil {
			// The head gets the full read-header timeout from its first
			// byte on.
			return fc.ensureHeadDeadline(time.Now())
		}
		var ne net.Error
		if first || !errors.As(err, &ne) || !ne.Timeout() || fc.br.Buffered() > 0 {
			return false
		}
		idleEnd := start.Add(lim.IdleTimeout)
		if !time.Now().Before(idleEnd) {
			return false
		}
		fc.deadline = idleEnd
		if fc.conn.SetReadDeadline(idleEnd) != nil {
			return false
		}
	}
}

// ensureHeadDeadline makes sure at least the read-header timeout (and at
// most an eighth more) is left before the read deadline.
func (fc *fastConn) ensureHeadDeadline(now time.Time) bool {
	t := fc.f.lim.ReadHeaderTimeout
	want := now.Add(t)
	if !fc.deadline.IsZero() && !fc.deadline.Before(want) && fc.deadline.Before(want.Add(t/8)) {
		return true
	}
	d := want.Add(t / 8)
	if fc.conn.SetReadDeadline(d) != nil {
		return false
	}
	fc.deadline = d
	return true
}

// parseHead reads and parses the next request head into fc.req. It returns
// the head's length; errNotFast when net/http must take the connection.
func (fc *fastConn) parseHead() (int, error) {
	br := fc.br
	limit := fc.f.headLimit
	scanned := 0
	var buf []byte
	end := -1
	for {
		buf, _ = br.Peek(br.Buffered())
		if i := bytes.Index(buf[max(scanned-3, 0):], []byte("\r\n\r\n")); i >= 0 {
			end = max(scanned-3, 0) + i + 4
			break
		}
		scanned = len(buf)
		if len(buf) >= limit {
			return 0, errNotFast
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			// A head cut by the client or by the read-header timeout ends
			// the connection quietly, as net/http does.
			return 0, err
		}
	}
	if end > limit {
		return 0, errNotFast
	}
	if err := fc.buildRequest(buf[:end]); err != nil {
		return 0, err
	}
	return end, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// buildRequest fills fc.req from a complete head (ending in CRLF CRLF), or
// returns errNotFast for anything outside the narrow accepted shape.
func (fc *fastConn) buildRequest(head []byte) error {
	p := &fc.head
	if err := parseRequestHead(head, p); err != nil {
		return err
	}
	if fc.req == nil {
		// One request value per connection, bound to the connection's
		// context: the context field can only be set by WithContext, which
		// copies, so the fields are refilled in place for every request.
		base := context.WithValue(context.Background(), schemeKey, fc.f.scheme)
		base = context.WithValue(base, fastConnKey, fc)
		fc.ctx, fc.cancel = context.WithCancel(base)
		fc.stopAbort = fc.releaseAbort
		fc.req = (&http.Request{}).WithContext(fc.ctx)
	}
	r := fc.req
	r.Method, r.URL, r.Header, r.Host = p.method, p.url, p.header, p.host
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.ContentLength, r.Close, r.Body = p.length, p.close, http.NoBody
	r.RemoteAddr, r.RequestURI = fc.remote, p.target
	r.TransferEncoding, r.Trailer, r.GetBody = nil, nil, nil
	r.Form, r.PostForm, r.MultipartForm = nil, nil, nil
	if p.length > 0 {
		fc.body = fastBody{br: fc.br, remain: p.length}
		r.Body = &fc.body
	}
	return nil
}

// fastBody is a request body of known length read from the connection.
type fastBody struct {
	br     *bufio.Reader
	remain int64
}

func (b *fastBody) Read(p []byte) (int, error) { return readLength(b.br, &b.remain, p) }

func (b *fastBody) Close() error { return nil }

// serveOne runs the handler for the parsed request whose head is n bytes
// long, or finishes the exchange res, and writes the response. It reports
// whether the connection may carry another request.
func (fc *fastConn) serveOne(n int, res *resumed) (keep bool) {
	_, _ = fc.br.Discard(n)
	r := fc.req
	if r.ContentLength > 0 {
		// The body is not under the read-header timeout (net/http sets no
		// read timeout for it either).
		if fc.conn.SetReadDeadline(time.Time{}) != nil {
			return false
		}
		fc.deadline = time.Time{}
	}
	if fc.bw == nil {
		if v := fastWriterPool.Get(); v != nil {
			fc.bw = v.(*bufio.Writer)
			fc.bw.Reset(fc.conn)
		} else {
			fc.bw = bufio.NewWriterSize(fc.conn, 8<<10)
		}
	}
	w := &fc.w
	w.reset(fc.bw, r)
	if fc.f.draining.Load() || r.Close {
		w.closeAfter = true
	}
	if (r.ContentLength == 0 || res != nil) && fc.br.Buffered() == 0 && len(fc.src.pre) == 0 {
		fc.startWatch()
	}
	aborted := fc.runHandler(w, r, res)
	fc.stopWatch()
	if aborted {
		_ = fc.bw.Flush() // what was written already goes out, as with net/http
		return false
	}
	if fc.sw.status == 499 && w.code == 0 {
		// The client left before an answer started: none is made up for
		// it (a half-closed client would read it).
		return false
	}
	if err := w.finish(); err != nil {
		return false
	}
	if fc.ctx.Err() != nil {
		return false // the client left
	}
	if fc.body.remain > 0 {
		// An unread rest of a small body is skipped to reach the next
		// request.
		if _, err := io.Copy(io.Discard, &fc.body); err != nil {
			return false
		}
	}
	fc.body = fastBody{}
	if w.closeAfter || fc.f.draining.Load() {
		return false
	}
	return true
}

func (fc *fastConn) runHandler(w *fastWriter, r *http.Request, res *resumed) (aborted bool) {
	defer func() {
		if v := recover(); v != nil {
			aborted = true
			if v != http.ErrAbortHandler {
				fc.f.s.logger.Error("bridge handler panic", "panic", v)
			}
		}
	}()
	fc.sw = statusWriter{ResponseWriter: w}
	if res != nil {
		fc.f.s.resume(&fc.sw, r, res, fc.abortOnLeave(res.uc.conn))
		return false
	}
	fc.f.s.serveWith(&fc.sw, r)
	return false
}

// startWatch arms the check for a client that leaves while the request
// runs: after watchDelay a read of the connection starts, and its EOF or
// error cancels the connection's context, which aborts the upstream
// exchange.
func (fc *fastConn) startWatch() {
	fc.watchMu.Lock()
	fc.watchOn, fc.watching = true, false
	fc.watchMu.Unlock()
	if fc.watchTimer == nil {
		fc.watchDone = make(chan struct{}, 1)
		fc.watchTimer = time.AfterFunc(watchDelay, fc.watch)
		return
	}
	fc.watchTimer.Reset(watchDelay)
}

func (fc *fastConn) watch() {
	fc.watchMu.Lock()
	if !fc.watchOn || fc.watching {
		// Stopped, or a late firing of an earlier arming while a watch
		// already runs.
		fc.watchMu.Unlock()
		return
	}
	// The request is already read: nothing else reads the connection now.
	// The deadline is cleared under the lock so that stopWatch's own
	// deadline, which ends this read, always comes after it.
	_ = fc.conn.SetReadDeadline(time.Time{})
	fc.watching = true
	fc.watchMu.Unlock()
	var b [1]byte
	n, err := fc.conn.Read(b[:])
	if n == 1 {
		fc.src.pending, fc.src.has = b[0], true
	} else if err != nil && !isTimeout(err) {
		fc.cancel()
		fc.watchMu.Lock()
		if fc.abortConn != nil {
			_ = fc.abortConn.SetDeadline(aLongTimeAgo)
			fc.abortFired = true
		}
		fc.watchMu.Unlock()
	}
	fc.watchDone <- struct{}{}
}

// abortOnLeave arranges for c's deadline to be cut short when the client
// leaves while c is in use, until stopAbort is called; stopAbort reports
// false when that already happened. It does what context.AfterFunc on the
// connection's context would, without registering and unregistering a
// callback (a lock, an allocation and a goroutine start) per request.
func (fc *fastConn) abortOnLeave(c net.Conn) func() bool {
	fc.watchMu.Lock()
	fc.abortFired = false
	if fc.ctx.Err() != nil {
		_ = c.SetDeadline(aLongTimeAgo)
		fc.abortFired = true
	} else {
		fc.abortConn = c
	}
	fc.watchMu.Unlock()
	return fc.stopAbort
}

func (fc *fastConn) releaseAbort() bool {
	fc.watchMu.Lock()
	fired := fc.abortFired
	fc.abortConn, fc.abortFired = nil, false
	fc.watchMu.Unlock()
	return !fired
}

// stopWatch ends the watch of the current request and waits for its read.
func (fc *fastConn) stopWatch() {
	if fc.watchTimer == nil {
		return
	}
	fc.watchMu.Lock()
	on, started := fc.watchOn, fc.watching
	fc.watchOn, fc.watching = false, false
	fc.watchMu.Unlock()
	if !on {
		return
	}
	fc.watchTimer.Stop()
	if started {
		_ = fc.conn.SetReadDeadline(aLongTimeAgo)
		<-fc.watchDone
		fc.deadline = aLongTimeAgo // forces the next wait to set its own
	}
}

// handOver gives the connection, with the bytes already read, to the
// net/http server behind the framing guard.
func (fc *fastConn) handOver() {
	fc.state.Store(fcClosed)
	fc.f.handedOver.Add(1)
	rc := &replayConn{Conn: fc.conn, r: fc.br}
	fc.f.handoff.give(newGuardConn(rc, fc.f.lim.MaxHeaderBytes))
}

// replayConn reads what the loop had buffered before the connection.
type replayConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// handoffListener feeds handed-over connections to a net/http server.
type handoffListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *handoffListener) give(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// fastWriter is the loop's http.ResponseWriter: the head and body go
// straight into the connection's buffer. Framing follows net/http: a
// Content-Length set by the handler is used as is; otherwise a response
// the handler finishes without flushing gets a Content-Length, and one it
// flushes or that outgrows the buffer is sent chunked.
type fastWriter struct {
	bw         *bufio.Writer
	req        *http.Request
	header     http.Header
	code       int
	wrote      bool // head written
	chunked    bool
	noBody     bool
	length     int64 // declared Content-Length, -1: none
	written    int64
	pending    []byte // body held back while the framing is undecided
	closeAfter bool
	values     [8]string // backing of upstream response values in header
}

const maxPending = 4 << 10

func (w *fastWriter) reset(bw *bufio.Writer, r *http.Request) {
	if w.header == nil {
		w.header = make(http.Header, 16)
	}
	clear(w.header)
	*w = fastWriter{bw: bw, req: r, header: w.header, pending: w.pending[:0], length: -1}
}

func (w *fastWriter) Header() http.Header { return w.header }

func (w *fastWriter) WriteHeader(code int) {
	if w.code != 0 {
		return
	}
	if code < 100 || code > 999 {
		panic("bridge: invalid status code " + strconv.Itoa(code))
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		// Interim response: written and flushed now.
		w.writeStatus(code)
		w.writeFields(true)
		w.bw.WriteString("\r\n")
		_ = w.bw.Flush()
		return
	}
	w.code = code
	w.noBody = w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	if cl, ok := w.header["Content-Length"]; ok && len(cl) == 1 {
		if n, ok := parseDecimal([]byte(cl[0])); ok {
			w.length = n
		}
	}
	if vv, ok := w.header["Connection"]; ok && valuesContainToken(vv, "close") {
		w.closeAfter = true
	}
}

func (w *fastWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.noBody {
		return len(p), nil
	}
	if w.length >= 0 {
		if w.written+int64(len(p)) > w.length {
			return 0, http.ErrContentLength
		}
		if !w.wrote {
			w.writeHead()
		}
		w.written += int64(len(p))
		return w.bw.Write(p)
	}
	if !w.wrote {
		if len(w.pending)+len(p) <= maxPending {
			w.pending = append(w.pending, p...)
			return len(p), nil
		}
		w.chunked = true
		w.writeHead()
		if err := w.writeChunk(w.pending); err != nil {
			return 0, err
		}
		w.pending = w.pending[:0]
	}
	if err := w.writeChunk(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *fastWriter) writeChunk(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	var num [16]byte
	w.bw.Write(strconv.AppendInt(num[:0], int64(len(p)), 16))
	w.bw.WriteString("\r\n")
	w.bw.Write(p)
	_, err := w.bw.WriteString("\r\n")
	return err
}

// FlushError sends what was written so far (http.ResponseController).
func (w *fastWriter) FlushError() error {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.wrote {
		if w.length < 0 && !w.noBody {
			w.chunked = true
		}
		w.writeHead()
		if w.chunked {
			if err := w.writeChunk(w.pending); err != nil {
				return err
			}
		}
		w.pending = w.pending[:0]
	}
	return w.bw.Flush()
}

func (w *fastWriter) Flush() { _ = w.FlushError() }

// finish completes the response and flushes it.
func (w *fastWriter) finish() error {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.wrote {
		if w.length < 0 && !w.noBody {
			w.length = int64(len(w.pending))
			w.header["Content-Length"] = []string{strconv.Itoa(len(w.pending))}
		}
		w.writeHead()
		if !w.noBody {
			w.bw.Write(w.pending)
			w.written = int64(len(w.pending))
		}
		w.pending = w.pending[:0]
	}
	switch {
	case w.chunked:
		w.bw.WriteString("0\r\n")
		w.writeTrailers()
		w.bw.WriteString("\r\n")
	case !w.noBody && w.written < w.length:
		// A short body cannot be completed: the connection must end.
		_ = w.bw.Flush()
		return io.ErrShortWrite
	}
	return w.bw.Flush()
}

func (w *fastWriter) writeStatus(code int) {
	// WriteHeader keeps code within 100..999: three digits, written one by
	// one (a digit buffer passed to Write would escape and allocate).
	w.bw.WriteString("HTTP/1.1 ")
	w.bw.WriteByte(byte('0' + code/100))
	w.bw.WriteByte(byte('0' + code/10%10))
	w.bw.WriteByte(byte('0' + code%10))
	w.bw.WriteByte(' ')
	w.bw.WriteString(http.StatusText(code))
	w.bw.WriteString("\r\n")
}

// writeHead writes the final status line and header fields.
func (w *fastWriter) writeHead() {
	w.wrote = true
	// A 304 keeps the Content-Length its upstream sent (the length of the
	// representation); a 204 must not carry one.
	if w.code == http.StatusNoContent {
		delete(w.header, "Content-Length")
		delete(w.header, "Transfer-Encoding")
		w.chunked = false
	}
	w.writeStatus(w.code)
	w.writeFields(false)
	if _, ok := w.header["Date"]; !ok {
		w.bw.WriteString("Date: ")
		w.bw.WriteString(httpDate())
		w.bw.WriteString("\r\n")
	}
	if w.chunked {
		w.bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if w.closeAfter {
		if _, ok := w.header["Connection"]; !ok {
			w.bw.WriteString("Connection: close\r\n")
		}
	}
	w.bw.WriteString("\r\n")
}

// writeFields writes the header map, skipping trailer placeholders and the
// framing fields the writer decides itself. Values cannot carry a line
// break: one would start a field of its own.
func (w *fastWriter) writeFields(interim bool) {
	for k, vv := range w.header {
		if len(k) >= len(http.TrailerPrefix) && k[:len(http.TrailerPrefix)] == http.TrailerPrefix {
			continue
		}
		if !interim && k == "Transfer-Encoding" {
			continue
		}
		if w.chunked && k == "Content-Length" {
			continue
		}
		for _, v := range vv {
			w.bw.WriteString(k)
			w.bw.WriteString(": ")
			writeSafeValue(w.bw, v)
			w.bw.WriteString("\r\n")
		}
	}
}

func writeSafeValue(bw *bufio.Writer, v string) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			b := []byte(v)
			for j := i; j < len(b); j++ {
				if b[j] == '\r' || b[j] == '\n' || b[j] == 0 {
					b[j] = ' '
				}
			}
			bw.Write(b)
			return
		}
	}
	bw.WriteString(v)
}

// writeTrailers writes trailer fields set through http.TrailerPrefix or
// declared in a Trailer field before the head was written.
func (w *fastWriter) writeTrailers() {
	for k, vv := range w.header {
		name, ok := "", false
		if len(k) > len(http.TrailerPrefix) && k[:len(http.TrailerPrefix)] == http.TrailerPrefix {
			name, ok = http.CanonicalHeaderKey(k[len(http.TrailerPrefix):]), true
		}
		if !ok {
			continue
		}
		if isHopByHop(name) || name == "Content-Length" || name == "Host" {
			continue
		}
		for _, v := range vv {
			w.bw.WriteString(name)
			w.bw.WriteString(": ")
			writeSafeValue(w.bw, v)
			w.bw.WriteString("\r\n")
		}
	}
}

// httpDate returns the current time in the Date field's format, formatted
// at most once a second.
func httpDate() string {
	now := time.Now().Unix()
	if d := cachedDate.Load(); d != nil && d.sec == now {
		return d.text
	}
	d := &dateText{sec: now, text: time.Unix(now, 0).UTC().Format(http.TimeFormat)}
	cachedDate.Store(d)
	return d.text
}

type dateText struct {
	sec  int64
	text string
}

var cachedDate atomic.Pointer[dateText]
