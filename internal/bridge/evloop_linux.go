//go:build linux

package bridge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// On Linux the listeners' connections are served by event loops in
// front of the goroutine loop (fast.go). A goroutine per connection pays,
// for every request, a read that finds nothing (the next request has not
// arrived), a park and a wake-up, and the same again on the upstream side
// while the response is on its way: Go's poller only waits after a read has
// failed. An event loop instead waits on epoll for many connections at once
// and reads each one when it is known to be readable, as nginx and HAProxy
// do. One loop runs per GOMAXPROCS, each on its own thread, each with its
// own keep-alive connections to the upstreams.
//
// The loops take the common exchange whole: a request the goroutine loop
// would accept (same parser, same narrow shape) whose body is already
// buffered, for a route with plain or HTTPS upstreams, answered with a head and
// a Content-Length body that fit in evMaxResponse. Everything else is passed
// on, with the bytes already read, to a goroutine: a connection whose
// request is unusual goes to the goroutine loop (which hands it to net/http
// where needed), and an exchange whose response is large, chunked, interim
// or read to close is finished there with both connections. The decisions,
// the forwarded request and the response head are made by the same code as
// on the goroutine path (admit, writeRequest, the response head parser,
// fastWriter), so the two paths answer alike.

// evMaxResponse bounds the responses (head and body) a loop relays itself.
const evMaxResponse = 64 << 10

// evMaxPipelined bounds what a loop buffers from a client while its
// request runs; beyond it the loop stops reading that client until then.
const evMaxPipelined = fastHeadLimit + maxLeanBody

// Client states.
const (
	clIdle   uint8 = iota // waiting for (the rest of) a request head
	clActive              // an exchange runs
	clClose               // the response is going out, then the connection closes
)

// Task kinds posted to a loop from other goroutines.
const (
	taskAdopt uint8 = iota
	taskDialed
	taskDrain
	taskScan
	taskStop
)

type evTask struct {
	kind   uint8
	fd     int
	remote string
	c      *evConn // taskDialed: the client that asked
	gen    uint32
	up     *Upstream
	err    error
	tls    *evTLS // taskAdopt, taskDialed: the connection's TLS, nil for plain TCP
}

// evServer is the set of loops of one listener.
type evServer struct {
	f       *fastServer
	loops   []*evLoop
	next    atomic.Uint32
	clients atomic.Int64 // client connections adopted and not yet closed or passed on
}

// newEvServer starts one loop per GOMAXPROCS.
func newEvServer(f *fastServer) (*evServer, error) {
	e := &evServer{f: f}
	for range runtime.GOMAXPROCS(0) {
		l, err := newEvLoop(e)
		if err != nil {
			for _, l := range e.loops { // none runs yet
				_ = unix.Close(l.ep)
				_ = unix.Close(l.wf)
			}
			return nil, err
		}
		e.loops = append(e.loops, l)
	}
	for _, l := range e.loops {
		go l.run()
	}
	return e, nil
}

// adopt moves an accepted connection to a loop.
func (e *evServer) adopt(c net.Conn) { e.adoptTLS(c, nil) }

// adoptTLS moves an accepted connection whose TLS handshake t completed
// over c (t.lc's blocking transport) to a loop; t nil: plain TCP.
func (e *evServer) adoptTLS(c net.Conn, t *evTLS) {
	remote := c.RemoteAddr().String()
	fd, err := dupConn(c)
	_ = c.Close()
	if err != nil {
		return
	}
	if t != nil {
		t.lc.nc = nil // the loop owns the socket from now on
	}
	e.clients.Add(1)
	l := e.loops[int(e.next.Add(1))%len(e.loops)]
	l.post(evTask{kind: taskAdopt, fd: fd, remote: remote, tls: t})
}

func (e *evServer) broadcast(kind uint8) {
	for _, l := range e.loops {
		l.post(evTask{kind: kind})
	}
}

// drain closes idle connections now and the others once their exchange
// is done; stop closes everything and ends the loops.
func (e *evServer) drain() { e.broadcast(taskDrain) }
func (e *evServer) stop()  { e.broadcast(taskStop) }

// scan makes every loop look at its idle upstream connections now (after a
// reload that dropped upstreams).
func (e *evServer) scan() { e.broadcast(taskScan) }

// open is the number of client connections the loops hold.
func (e *evServer) open() int64 { return e.clients.Load() }

// dupConn takes a descriptor of its own for c's socket; closing c then
// leaves the socket open and out of the runtime's poller.
func dupConn(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1, errors.New("connection has no descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := raw.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	return fd, derr
}

// toNetConn gives a descriptor back to the runtime as a net.Conn; fd itself
// is closed.
func toNetConn(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "")
	c, err := net.FileConn(f)
	_ = f.Close()
	return c, err
}

// evConn is a client or an upstream connection of a loop.
type evConn struct {
	fd       int
	gen      uint32 // tells a reused descriptor number from the old one
	interest uint32
	deadline time.Time // zero: none
	client   *evClient // exactly one of client and upstream is set
	upstream *evUp
	tls      *evTLS // nil: plain TCP
}

type evClient struct {
	fc    fastConn // parser state, request, response writer and header maps
	in    []byte   // read and not yet consumed
	out   []byte   // response bytes the socket did not take yet
	state uint8
	ex    evExchange

	served      bool // a request was taken from this connection
	headStarted bool // bytes of the next head arrived
	eof         bool // the client closed its side: write what is left, then close
}

// evExchange is the request a client has running.
type evExchange struct {
	t        *table
	rt       *route
	up       *Upstream
	uc       *evConn // nil while dialing
	dialing  bool
	req      []byte // the forwarded request, kept for one retry
	headLen  int    // the client's request head: in[:headLen]
	total    int    // head and body: in[:total]
	start    time.Time
	resp     []byte // upstream bytes so far
	parsed   bool   // the response head is in the writer's header map
	rh       respHead
	bodyAt   int
	attempts int
	retryOK  bool // may be replayed on a fresh connection (no body, idempotent)
}

type evUp struct {
	up       *Upstream
	owner    *evConn // the client whose exchange uses it; nil when idle
	reused   bool
	idleFrom time.Time
	out      []byte
}

type evPool struct{ idle []*evConn }

// sliceSink is the target of a loop's buffered writers.
type sliceSink struct{ b []byte }

func (s *sliceSink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

type evLoop struct {
	e  *evServer
	f  *fastServer
	s  *Server
	ep int
	wf int // eventfd that wakes the loop for tasks

	// Under mu. The eventfd is written and closed under mu too: a write
	// after the close could land in whatever reuses the descriptor number.
	mu     sync.Mutex
	tasks  []evTask
	closed bool // the loop ended: tasks are refused
	posted bool // the eventfd holds a wake-up not yet read

	conns    map[int]*evConn
	pools    map[*Upstream]*evPool
	gen      uint32
	buf      []byte
	plain    []byte    // what TLS decrypted from buf
	resp     sliceSink // a response being assembled
	rb       *bufio.Writer
	req      sliceSink // a request being assembled
	qb       *bufio.Writer
	now      time.Time
	wakeAt   time.Time
	draining bool
	stopped  bool
}

func newEvLoop(e *evServer) (*evLoop, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wf, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(ep)
		return nil, err
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, wf, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wf)}); err != nil {
		_ = unix.Close(ep)
		_ = unix.Close(wf)
		return nil, err
	}
	l := &evLoop{
		e: e, f: e.f, s: e.f.s, ep: ep, wf: wf,
		conns: map[int]*evConn{},
		pools: map[*Upstream]*evPool{},
		buf:   make([]byte, 64<<10),
	}
	l.rb = bufio.NewWriterSize(&l.resp, 16<<10)
	l.qb = bufio.NewWriterSize(&l.req, 4<<10)
	return l, nil
}

func (l *evLoop) post(t evTask) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		if t.kind == taskAdopt || t.kind == taskDialed && t.err == nil {
			_ = unix.Close(t.fd)
		}
		if t.kind == taskAdopt {
			l.e.clients.Add(-1)
		}
		return
	}
	l.tasks = append(l.tasks, t)
	if !l.posted {
		l.posted = true
		var one = [8]byte{1}
		_, _ = unix.Write(l.wf, one[:])
	}
	l.mu.Unlock()
}

func (l *evLoop) run() {
	runtime.LockOSThread()
	events := make([]unix.EpollEvent, 256)
	var spare []evTask
	for !l.stopped {
		timeout := -1
		if !l.wakeAt.IsZero() {
			d := time.Until(l.wakeAt)
			timeout = 0
			if d > 0 {
				timeout = int((d + time.Millisecond - 1) / time.Millisecond)
			}
		}
		n, err := unix.EpollWait(l.ep, events, timeout)
		if err != nil && err != unix.EINTR {
			l.s.logger.Error("bridge event loop", "err", err)
			l.shut()
			break
		}
		l.now = time.Now()
		for i := 0; i < n; i++ {
			ev := &events[i]
			fd := int(ev.Fd)
			if fd == l.wf {
				var b [8]byte
				l.mu.Lock()
				_, _ = unix.Read(l.wf, b[:])
				l.posted = false
				tasks := l.tasks
				l.tasks = spare[:0]
				l.mu.Unlock()
				for _, t := range tasks {
					l.task(t)
				}
				clear(tasks)
				spare = tasks
				continue
			}
			c := l.conns[fd]
			if c == nil || c.gen != uint32(ev.Pad) {
				continue // closed or passed on earlier in this batch
			}
			l.event(c, ev.Events)
		}
		if !l.wakeAt.IsZero() && !l.now.Before(l.wakeAt) {
			l.scan()
		}
	}
	l.mu.Lock()
	l.closed = true
	tasks := l.tasks
	l.tasks = nil
	_ = unix.Close(l.wf)
	l.mu.Unlock()
	for _, t := range tasks {
		if t.kind == taskAdopt || t.kind == taskDialed && t.err == nil {
			_ = unix.Close(t.fd)
		}
		if t.kind == taskAdopt {
			l.e.clients.Add(-1)
		}
	}
	_ = unix.Close(l.ep)
}

func (l *evLoop) task(t evTask) {
	switch t.kind {
	case taskAdopt:
		if l.draining || l.stopped {
			_ = unix.Close(t.fd)
			l.e.clients.Add(-1)
			return
		}
		c := &evConn{fd: t.fd, client: &evClient{}, tls: t.tls}
		c.client.fc.f = l.f
		c.client.fc.remote = t.remote
		if !l.register(c) {
			_ = unix.Close(t.fd)
			l.e.clients.Add(-1)
			return
		}
		// A new connection gets the read-header timeout for its first
		// request from the start.
		l.setDeadline(c, l.now.Add(l.f.lim.ReadHeaderTimeout))
		if c.tls != nil {
			// Records that came with the end of the handshake were read
			// from the socket already: the socket may never turn readable
			// for them.
			l.contain(c, func() { l.clientInput(c, nil, false, nil) })
		}
	case taskDialed:
		l.contain(t.c, func() { l.dialed(t) })
	case taskDrain:
		l.draining = true
		l.scan()
	case taskScan:
		l.scan()
	case taskStop:
		l.shut()
	}
}

// shut closes every connection and ends the loop.
func (l *evLoop) shut() {
	for _, c := range l.conns {
		if c.client != nil {
			if c.client.state == clActive {
				l.abandon(c)
			}
			l.closeClient(c)
		} else {
			l.closeUp(c)
		}
	}
	l.stopped = true
}

func (l *evLoop) register(c *evConn) bool {
	l.gen++
	c.gen = l.gen
	c.interest = unix.EPOLLIN | unix.EPOLLRDHUP
	ev := unix.EpollEvent{Events: c.interest, Fd: int32(c.fd), Pad: int32(c.gen)}
	if unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, c.fd, &ev) != nil {
		return false
	}
	l.conns[c.fd] = c
	return true
}

// want sets the events the loop waits for on c.
func (l *evLoop) want(c *evConn, interest uint32) {
	if c.interest == interest {
		return
	}
	c.interest = interest
	ev := unix.EpollEvent{Events: interest, Fd: int32(c.fd), Pad: int32(c.gen)}
	_ = unix.EpollCtl(l.ep, unix.EPOLL_CTL_MOD, c.fd, &ev)
}

// detach takes c out of the loop without closing its descriptor.
func (l *evLoop) detach(c *evConn) {
	_ = unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, c.fd, nil)
	delete(l.conns, c.fd)
}

func (l *evLoop) setDeadline(c *evConn, t time.Time) {
	c.deadline = t
	if l.wakeAt.IsZero() || t.Before(l.wakeAt) {
		l.wakeAt = t
	}
}

// scan expires deadlines, closes what draining and reloads made idle, and
// finds the next deadline.
func (l *evLoop) scan() {
	l.wakeAt = time.Time{}
	for up, p := range l.pools {
		if up.conns.gone.Load() {
			for len(p.idle) > 0 {
				l.closeUp(p.idle[len(p.idle)-1])
			}
			delete(l.pools, up)
		}
	}
	for _, c := range l.conns {
		if l.conns[c.fd] != c {
			continue // closed by an earlier expiry in this scan
		}
		if cl := c.client; cl != nil && l.draining && cl.state == clIdle && len(cl.in) == 0 && len(cl.out) == 0 {
			l.closeClient(c)
			continue
		}
		if c.deadline.IsZero() {
			continue
		}
		if l.now.Before(c.deadline) {
			if l.wakeAt.IsZero() || c.deadline.Before(l.wakeAt) {
				l.wakeAt = c.deadline
			}
			continue
		}
		c.deadline = time.Time{}
		l.contain(c, func() { l.expire(c) })
	}
}

// event handles the readiness of one connection. A panic is contained to
// the connections it concerns, as net/http contains a handler's: the loop
// serves every other connection on with it.
func (l *evLoop) event(c *evConn, events uint32) {
	defer func() {
		if v := recover(); v != nil {
			l.s.logger.Error("bridge event loop panic", "panic", v, "stack", string(debug.Stack()))
			l.drop(c)
		}
	}()
	if c.client != nil {
		l.clientEvent(c, events)
	} else {
		l.upstreamEvent(c, events)
	}
}

// drop closes c and the connection it works with after a panic.
func (l *evLoop) drop(c *evConn) {
	if u := c.upstream; u != nil {
		owner := u.owner
		l.closeUp(c)
		if owner != nil {
			c = owner
			c.client.ex.uc = nil
		}
	}
	if c.client == nil || l.conns[c.fd] != c {
		return
	}
	func() {
		defer func() { _ = recover() }()
		if c.client.state == clActive {
			l.abandon(c)
		}
	}()
	l.closeClient(c)
}

// expire handles a connection whose deadline passed.
func (l *evLoop) expire(c *evConn) {
	switch {
	case c.client != nil && c.client.state == clActive:
		// Gone (see clientEOF) while its request runs.
		l.clientGone(c)
	case c.client != nil:
		// Waiting for a request head, or idle, for too long.
		l.closeClient(c)
	case c.upstream.owner != nil:
		l.upstreamBroke(c.upstream.owner, os.ErrDeadlineExceeded)
	default:
		l.closeUp(c) // idle past the idle timeout
	}
}

// contain runs f, containing a panic to c as event does.
func (l *evLoop) contain(c *evConn, f func()) {
	defer func() {
		if v := recover(); v != nil {
			l.s.logger.Error("bridge event loop panic", "panic", v, "stack", string(debug.Stack()))
			l.drop(c)
		}
	}()
	f()
}

// --- clients -------------------------------------------------------------

func (l *evLoop) clientEvent(c *evConn, events uint32) {
	cl := c.client
	if events&unix.EPOLLOUT != 0 && len(cl.out) > 0 {
		if !l.flush(c) {
			return
		}
		if len(cl.out) == 0 {
			// Requests that arrived while the response went out.
			l.serve(c)
			if l.conns[c.fd] != c {
				return
			}
		}
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) == 0 || cl.eof {
		if events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			l.clientGone(c) // reset: reported whatever the interest
		}
		return
	}
	busy := cl.state != clIdle || len(cl.out) > 0
	if busy && len(cl.in) >= evMaxPipelined {
		if events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			l.clientGone(c) // reported whatever the interest
			return
		}
		l.wantClient(c)
		return
	}
	p, eof, err := l.read(c)
	l.clientInput(c, p, eof, err)
}

// clientInput takes what was read from a client: p, then its end (eof) or
// a broken connection (err).
func (l *evLoop) clientInput(c *evConn, p []byte, eof bool, err error) {
	cl := c.client
	if c.tls != nil && p == nil && !eof && err == nil {
		p, eof, err = l.decrypt(c, nil)
	}
	if err != nil {
		l.clientGone(c)
		return
	}
	cl.in = append(cl.in, p...)
	if eof {
		l.clientEOF(c)
		return
	}
	if len(p) == 0 {
		return
	}
	if cl.state != clIdle || len(cl.out) > 0 {
		l.wantClient(c)
		return
	}
	l.serve(c)
}

// read reads what c's socket has and returns it, decrypted on a TLS
// connection (valid until the next read); eof: the peer closed its side.
// Nothing and no error: nothing (or no whole TLS record) to read yet.
func (l *evLoop) read(c *evConn) (p []byte, eof bool, err error) {
	n, err := unix.Read(c.fd, l.buf)
	if n < 0 && (err == unix.EAGAIN || err == unix.EINTR) {
		return nil, false, nil
	}
	if n < 0 || err != nil {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, err
	}
	if n == 0 {
		return nil, true, nil
	}
	if c.tls == nil {
		return l.buf[:n], false, nil
	}
	return l.decrypt(c, l.buf[:n])
}

// decrypt feeds ciphertext to c's TLS and returns all the plaintext it
// yields. A close_notify is eof; a bad record, an error.
func (l *evLoop) decrypt(c *evConn, cipher []byte) (p []byte, eof bool, err error) {
	t := c.tls
	t.lc.in = cipher
	out := l.plain[:0]
	for {
		if cap(out)-len(out) < 4<<10 {
			out = append(out, make([]byte, 16<<10)...)[:len(out)]
		}
		m, rerr := t.tc.Read(out[len(out):cap(out)])
		out = out[:len(out)+m]
		if rerr == nil {
			continue
		}
		if rerr != errWouldBlock {
			if rerr == io.EOF {
				eof = true
			} else {
				err = fmt.Errorf("reading tls record: %w", rerr)
			}
		}
		break
	}
	t.lc.in = nil
	l.plain = out[:0]
	return out, eof, err
}

// clientEOF handles a client that closed its side of the connection. What
// it sent before is still answered, as the goroutine loop would: requests
// already buffered are served and their answers written before the
// connection closes. A request that is running alone when the client
// closes is given up once it has run watchDelay, the point from which the
// goroutine loop watches for a client that left.
func (l *evLoop) clientEOF(c *evConn) {
	cl := c.client
	cl.eof = true
	l.wantClient(c)
	switch {
	case cl.state == clActive:
		if len(cl.in) == cl.ex.total {
			l.setDeadline(c, cl.ex.start.Add(watchDelay))
		}
	case cl.state == clIdle && len(cl.out) == 0:
		l.serve(c)
	}
}

// wantClient waits for what c needs next: room to write its response, and
// a request unless enough is buffered already.
func (l *evLoop) wantClient(c *evConn) {
	cl := c.client
	var in uint32 = unix.EPOLLIN | unix.EPOLLRDHUP
	if cl.eof || (cl.state != clIdle || len(cl.out) > 0) && len(cl.in) >= evMaxPipelined {
		in = 0
	}
	if len(cl.out) > 0 {
		in |= unix.EPOLLOUT
	}
	l.want(c, in)
}

// serve runs the requests buffered on an idle client.
func (l *evLoop) serve(c *evConn) {
	cl := c.client
	for cl.state == clIdle && len(cl.out) == 0 && len(cl.in) > 0 {
		limit := l.f.headLimit
		end := bytes.Index(cl.in, []byte("\r\n\r\n"))
		if end < 0 {
			if cl.eof {
				l.closeClient(c) // a head that can no longer be completed
				return
			}
			if len(cl.in) >= limit {
				l.escapeClient(c)
				return
			}
			if !cl.headStarted {
				// The head gets the read-header timeout from its first
				// byte on; a new connection's has been running since it
				// was accepted.
				cl.headStarted = true
				if cl.served {
					l.setDeadline(c, l.now.Add(l.f.lim.ReadHeaderTimeout))
				}
			}
			return
		}
		headLen := end + 4
		if headLen > limit || cl.fc.buildRequest(cl.in[:headLen]) != nil {
			l.escapeClient(c)
			return
		}
		total := headLen + int(cl.fc.req.ContentLength)
		if len(cl.in) < total {
			// The rest of the body is still on its way: the goroutine
			// loop streams it.
			l.escapeClient(c)
			return
		}
		l.dispatch(c, headLen, total)
	}
	if cl.eof && cl.state == clIdle && len(cl.out) == 0 && len(cl.in) == 0 && l.conns[c.fd] == c {
		l.closeClient(c) // everything it sent is answered
	}
}

// dispatch starts the exchange for the request in cl.in[:total], or
// answers it at once.
func (l *evLoop) dispatch(c *evConn, headLen, total int) {
	cl := c.client
	fc := &cl.fc
	r := fc.req
	t := l.s.table.Load()
	cl.served, cl.headStarted = true, false
	ex := &cl.ex
	*ex = evExchange{t: t, start: l.now, headLen: headLen, total: total, req: ex.req[:0], resp: ex.resp[:0]}
	cl.state = clActive
	c.deadline = time.Time{}
	w := &fc.w
	l.resp.b = l.resp.b[:0]
	l.rb.Reset(&l.resp)
	w.reset(l.rb, r)
	if l.draining || r.Close {
		w.closeAfter = true
	}
	fc.sw = statusWriter{ResponseWriter: w}
	rt, up := l.s.admit(t, &fc.sw, r)
	if up != nil && up.conns == nil {
		// An upstream without a pool (unit tests) is the goroutine loop's:
		// it takes the request from the start (admit wrote nothing).
		rt.release()
		l.escapeClient(c)
		return
	}
	l.f.served.Add(1)
	l.f.evServed.Add(1)
	ex.rt, ex.up = rt, up
	if up == nil {
		l.finish(c)
		return
	}
	l.req.b = ex.req[:0]
	l.qb.Reset(&l.req)
	if err := rt.writeRequest(l.qb, r); err != nil {
		l.s.upstreamFailed(&fc.sw, r, rt, up, err)
		rt.release()
		ex.rt = nil // counted already
		l.finishRouted(c, rt)
		return
	}
	_, _ = l.qb.Write(cl.in[headLen:total])
	_ = l.qb.Flush()
	ex.req = l.req.b
	ex.retryOK = r.ContentLength == 0 && idempotent(r.Method)
	l.connect(c)
}

// connect sends the exchange on an idle upstream connection or dials one.
func (l *evLoop) connect(c *evConn) {
	ex := &c.client.ex
	if ex.attempts == 0 {
		if uc := l.takeIdle(ex.up); uc != nil {
			l.send(c, uc)
			return
		}
	}
	ex.attempts++
	ex.dialing = true
	up, gen := ex.up, c.gen
	go func() {
		fd, t, err := dialLoop(up)
		l.post(evTask{kind: taskDialed, c: c, gen: gen, up: up, fd: fd, err: err, tls: t})
	}()
}

// dialLoop opens a connection to up for a loop, completing TLS (server
// name and verification as configured for up) before the loop takes it.
func dialLoop(up *Upstream) (int, *evTLS, error) {
	p := up.conns
	ctx, cancel := context.WithTimeout(context.Background(), up.timeout)
	defer cancel()
	nc, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return -1, nil, err
	}
	var t *evTLS
	if p.tlsConfig != nil {
		lc := newLoopConn(nc)
		tc := tls.Client(lc, p.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return -1, nil, err
		}
		if proto := tc.ConnectionState().NegotiatedProtocol; proto != "" && proto != "http/1.1" {
			_ = nc.Close()
			return -1, nil, fmt.Errorf("upstream %s negotiated %q, want http/1.1", p.addr, proto)
		}
		t = &evTLS{tc: tc, lc: lc}
	}
	fd, err := dupConn(nc)
	_ = nc.Close()
	if err != nil {
		return -1, nil, err
	}
	if t != nil {
		t.lc.nc = nil // the loop owns the socket from now on
	}
	return fd, t, nil
}

// dialed takes the result of a dial.
func (l *evLoop) dialed(t evTask) {
	c := t.c
	mine := !l.stopped && l.conns[c.fd] == c && c.gen == t.gen && c.client.state == clActive &&
		c.client.ex.dialing && c.client.ex.up == t.up
	var uc *evConn
	if t.err == nil {
		t.up.conns.dials.Add(1)
		uc = &evConn{fd: t.fd, upstream: &evUp{up: t.up}, tls: t.tls}
		if l.stopped || !l.register(uc) {
			_ = unix.Close(t.fd)
			uc = nil
		}
	}
	if !mine {
		if uc != nil {
			l.putIdle(uc) // the client left meanwhile: keep it for the next one
		}
		return
	}
	c.client.ex.dialing = false
	if uc == nil {
		err := t.err
		if err == nil {
			err = errors.New("registering the upstream connection failed")
		}
		l.fail(c, err)
		l.serve(c)
		return
	}
	l.send(c, uc)
}

// send writes the exchange's request on uc.
func (l *evLoop) send(c *evConn, uc *evConn) {
	ex := &c.client.ex
	u := uc.upstream
	ex.uc, u.owner = uc, c
	ex.resp, ex.parsed = ex.resp[:0], false
	l.setDeadline(uc, l.now.Add(ex.up.timeout))
	out := ex.req
	if t := uc.tls; t != nil {
		if _, err := t.tc.Write(ex.req); err != nil {
			l.upstreamBroke(c, err)
			return
		}
		out = t.lc.out
	}
	n, err := unix.Write(uc.fd, out)
	if n < 0 {
		n = 0
	}
	if err != nil && err != unix.EAGAIN && err != unix.EINTR {
		l.upstreamBroke(c, err)
		return
	}
	if t := uc.tls; t != nil {
		if n == len(out) {
			t.lc.out = out[:0]
		} else {
			t.lc.out = nil // the rest is u.out's now
		}
	}
	if n < len(out) {
		u.out = out[n:]
		l.want(uc, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLOUT)
	}
}

// clientGone handles a client that closed or broke its connection.
func (l *evLoop) clientGone(c *evConn) {
	cl := c.client
	if cl.state == clActive {
		// As on the goroutine path: the upstream exchange is aborted and
		// the request recorded as 499.
		l.abandon(c)
	}
	l.closeClient(c)
}

// abandon ends a running exchange whose client is gone.
func (l *evLoop) abandon(c *evConn) {
	cl := c.client
	ex := &cl.ex
	if ex.uc != nil {
		l.closeUp(ex.uc)
		ex.uc = nil
	}
	ex.dialing = false
	clear(cl.fc.w.header)
	cl.fc.sw.status = 499
	l.s.record(ex.t, ex.rt, &cl.fc.sw, cl.fc.req, ex.start)
	if ex.rt != nil && ex.up != nil {
		ex.rt.release()
	}
	cl.state = clIdle
}

func (l *evLoop) closeClient(c *evConn) {
	l.detach(c)
	_ = unix.Close(c.fd)
	if c.client.fc.cancel != nil {
		c.client.fc.cancel()
	}
	c.client.in, c.client.out = nil, nil
	c.client.state = clClose
	l.e.clients.Add(-1)
}

// escapeClient passes a client, with every byte read from it, to the
// goroutine loop.
func (l *evLoop) escapeClient(c *evConn) {
	pre := c.client.in
	c.client.in, c.client.state = nil, clClose
	l.detach(c)
	if c.client.fc.cancel != nil {
		c.client.fc.cancel()
	}
	l.e.clients.Add(-1)
	nc, err := l.netConn(c)
	if err != nil {
		return
	}
	l.f.escaped.Add(1)
	l.f.goServe(nc, pre, nil)
}

// netConn gives c's socket back to the runtime: a net.Conn for a goroutine,
// the TLS connection (with its state and unsent records) on top of it.
func (l *evLoop) netConn(c *evConn) (net.Conn, error) {
	nc, err := toNetConn(c.fd)
	if err != nil || c.tls == nil {
		return nc, err
	}
	if u := c.upstream; u != nil && len(u.out) > 0 {
		c.tls.lc.out = append(append([]byte(nil), u.out...), c.tls.lc.out...)
		u.out = nil
	}
	if err := c.tls.lc.resume(nc); err != nil {
		_ = nc.Close()
		return nil, err
	}
	return c.tls.tc, nil
}

// escapeExchange passes a running exchange, both connections with what was
// read from each, to the goroutine loop, which relays the response and
// then serves the client.
func (l *evLoop) escapeExchange(c *evConn) {
	cl := c.client
	ex := &cl.ex
	uc := ex.uc
	clear(cl.fc.w.header)
	l.detach(uc)
	unc, err := l.netConn(uc)
	if err != nil {
		ex.uc = nil
		l.fail(c, err)
		return
	}
	upc := newUpConn(unc)
	upc.src.r = &prefixReader{pre: append([]byte(nil), ex.resp...), r: unc}
	upc.reused = uc.upstream.reused
	res := &resumed{
		head: append([]byte(nil), cl.in[:ex.headLen]...),
		uc:   upc, t: ex.t, rt: ex.rt, up: ex.up, start: ex.start, deadline: uc.deadline,
	}
	pre := append([]byte(nil), cl.in[ex.total:]...)
	cl.in, cl.state = nil, clClose
	ex.uc = nil
	l.detach(c)
	if cl.fc.cancel != nil {
		cl.fc.cancel()
	}
	l.e.clients.Add(-1)
	nc, err := l.netConn(c)
	if err != nil {
		res.abandon()
		return
	}
	l.f.escaped.Add(1)
	l.f.goServe(nc, pre, res)
}

// prefixReader reads pre, then r.
type prefixReader struct {
	pre []byte
	r   io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// --- upstreams -----------------------------------------------------------

func (l *evLoop) takeIdle(up *Upstream) *evConn {
	p := l.pools[up]
	if p == nil {
		return nil
	}
	for n := len(p.idle); n > 0; n = len(p.idle) {
		uc := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if l.now.Sub(uc.upstream.idleFrom) >= up.conns.idleTimeout {
			l.closeUp(uc)
			continue
		}
		uc.upstream.reused = true
		up.conns.reuses.Add(1)
		return uc
	}
	return nil
}

// putIdle keeps uc for the next request to its upstream. Unlike the
// goroutine path no peek is needed before reuse: an idle connection stays
// in the loop's epoll set, and any byte or close on it ends it at once.
func (l *evLoop) putIdle(uc *evConn) {
	u := uc.upstream
	up := u.up
	if l.stopped || up.conns.gone.Load() {
		l.closeUp(uc)
		return
	}
	u.owner, u.out = nil, nil
	u.idleFrom = l.now
	p := l.pools[up]
	if p == nil {
		p = &evPool{}
		l.pools[up] = p
	}
	if len(p.idle) >= up.conns.maxIdle && len(p.idle) > 0 {
		l.closeUp(p.idle[0])
	}
	p.idle = append(p.idle, uc)
	l.want(uc, unix.EPOLLIN|unix.EPOLLRDHUP)
	l.setDeadline(uc, l.now.Add(up.conns.idleTimeout))
}

func (l *evLoop) closeUp(uc *evConn) {
	if _, ok := l.conns[uc.fd]; ok && l.conns[uc.fd] == uc {
		l.detach(uc)
		_ = unix.Close(uc.fd)
	}
	u := uc.upstream
	if u.owner == nil {
		if p := l.pools[u.up]; p != nil {
			for i, x := range p.idle {
				if x == uc {
					p.idle = append(p.idle[:i], p.idle[i+1:]...)
					break
				}
			}
		}
	}
	u.owner = nil
}

func (l *evLoop) upstreamEvent(uc *evConn, events uint32) {
	u := uc.upstream
	if events&unix.EPOLLOUT != 0 && len(u.out) > 0 {
		n, err := unix.Write(uc.fd, u.out)
		if n > 0 {
			u.out = u.out[n:]
		}
		if err != nil && err != unix.EAGAIN {
			if u.owner != nil {
				l.upstreamBroke(u.owner, err)
			} else {
				l.closeUp(uc)
			}
			return
		}
		if len(u.out) == 0 {
			l.want(uc, unix.EPOLLIN|unix.EPOLLRDHUP)
		}
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) == 0 {
		return
	}
	p, eof, err := l.read(uc)
	if len(p) == 0 && !eof && err == nil {
		return // nothing yet, or TLS records of its own (session tickets)
	}
	c := u.owner
	if c == nil {
		// Idle: a response nobody asked for, or the upstream's close.
		u.up.conns.brokenIdle.Add(1)
		l.closeUp(uc)
		return
	}
	ex := &c.client.ex
	if len(p) > 0 {
		ex.resp = append(ex.resp, p...)
		l.response(c)
		if ex.uc != uc || l.conns[c.fd] != c || c.client.state != clActive {
			// Answered or passed on. A connection kept for the next
			// request that ended with the answer is not kept after all.
			if (eof || err != nil) && u.owner == nil && l.conns[uc.fd] == uc {
				l.closeUp(uc)
			}
			return
		}
		if !eof && err == nil {
			return // more to come
		}
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	l.upstreamBroke(c, err)
}

// upstreamBroke handles a failed upstream connection of c's exchange. A
// reused connection that failed before sending anything was most likely
// closed by the upstream while idle: a request that may be replayed gets
// one more try on a fresh connection, as on the goroutine path.
func (l *evLoop) upstreamBroke(c *evConn, err error) {
	ex := &c.client.ex
	uc := ex.uc
	reused := uc != nil && uc.upstream.reused
	if uc != nil {
		l.closeUp(uc)
		ex.uc = nil
	}
	if reused && len(ex.resp) == 0 && ex.retryOK && ex.attempts == 0 && !errors.Is(err, os.ErrDeadlineExceeded) {
		if ex.parsed {
			clear(c.client.fc.w.header)
		}
		l.connect(c)
		return
	}
	l.fail(c, err)
	l.serve(c)
}

// fail answers c's exchange with the upstream error err.
func (l *evLoop) fail(c *evConn, err error) {
	cl := c.client
	ex := &cl.ex
	if ex.uc != nil {
		l.closeUp(ex.uc)
		ex.uc = nil
	}
	clear(cl.fc.w.header)
	if l.draining {
		cl.fc.w.closeAfter = true
	}
	l.s.upstreamFailed(&cl.fc.sw, cl.fc.req, ex.rt, ex.up, err)
	l.finish(c)
}

// headEnd returns the length of the response head at the start of b (its
// blank line included), or -1 when b does not hold all of it. Lines end in
// LF with an optional CR before it, as parseResponseHead reads them.
func headEnd(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return -1
	}
	pos := i + 1
	for {
		j := bytes.IndexByte(b[pos:], '\n')
		if j < 0 {
			return -1
		}
		line := b[pos : pos+j]
		pos += j + 1
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			return pos
		}
	}
}

// response relays the exchange's response once it is complete.
func (l *evLoop) response(c *evConn) {
	cl := c.client
	ex := &cl.ex
	fc := &cl.fc
	b := ex.resp
	if !ex.parsed {
		end := headEnd(b)
		if end < 0 {
			if len(b) >= ioBufSize {
				l.escapeExchange(c)
			}
			return
		}
		h, _, err := parseResponseHead(b[:end], fc.w.header, fc.req.Method, fc.w.values[:])
		if err != nil {
			l.fail(c, err)
			l.serve(c)
			return
		}
		if h.code < 200 || h.kind == bodyChunked || h.kind == bodyToClose ||
			h.kind == bodyLength && int64(end)+h.length > evMaxResponse {
			l.escapeExchange(c)
			return
		}
		ex.parsed, ex.rh, ex.bodyAt = true, h, end
	}
	h := ex.rh
	bodyEnd := ex.bodyAt
	if h.kind == bodyLength {
		bodyEnd += int(h.length)
	}
	if len(b) < bodyEnd {
		return // more of the body to come
	}
	ex.up.ReportSuccess()
	if l.draining {
		fc.w.closeAfter = true // say so in the response
	}
	hdr := fc.w.header
	if via := hdr["Via"]; len(via) > 0 {
		hdr["Via"] = append(via, viaValue)
	} else {
		hdr["Via"] = viaOnly
	}
	fc.sw.WriteHeader(h.code)
	if bodyEnd > ex.bodyAt {
		_, _ = fc.sw.Write(b[ex.bodyAt:bodyEnd])
	}
	uc := ex.uc
	ex.uc = nil
	if !h.close && len(b) == bodyEnd && len(uc.upstream.out) == 0 {
		l.putIdle(uc)
	} else {
		l.closeUp(uc) // bytes beyond the response: not to be trusted with another
	}
	l.finish(c)
	l.serve(c)
}

// finish completes the answer to c's request, records it and starts
// writing it.
func (l *evLoop) finish(c *evConn) {
	rt := c.client.ex.rt
	if rt != nil && c.client.ex.up != nil {
		rt.release()
	}
	l.finishRouted(c, rt)
}

// finishRouted is finish for a request whose route bound was released.
func (l *evLoop) finishRouted(c *evConn, rt *route) {
	cl := c.client
	fc := &cl.fc
	ex := &cl.ex
	if fc.sw.status == 0 {
		fc.sw.status = http.StatusOK
	}
	err := fc.w.finish()
	l.s.record(ex.t, rt, &fc.sw, fc.req, ex.start)
	cl.in = cl.in[:copy(cl.in, cl.in[ex.total:])]
	if len(cl.in) == 0 && cap(cl.in) > 16<<10 {
		cl.in = nil
	}
	if cap(ex.resp) > 16<<10 {
		ex.resp = nil // a large response's buffer is not kept per connection
	}
	if cap(ex.req) > 16<<10 {
		ex.req = nil
	}
	ex.rt, ex.up = nil, nil
	cl.state = clIdle
	if err != nil || fc.w.closeAfter || l.draining {
		cl.state = clClose
	}
	if t := c.tls; t != nil {
		// Records TLS wrote on its own (a key update) go out first.
		t.lc.out = append(cl.out, t.lc.out...)
		_, werr := t.tc.Write(l.resp.b)
		cl.out, t.lc.out = t.lc.out, nil
		if werr != nil {
			cl.state = clClose
		}
	} else {
		cl.out = append(cl.out, l.resp.b...)
	}
	l.resp.b = l.resp.b[:0]
	l.flush(c)
}

// flush writes what c's socket takes of its pending response. It reports
// whether c is still open.
func (l *evLoop) flush(c *evConn) bool {
	cl := c.client
	n, err := unix.Write(c.fd, cl.out)
	if n > 0 {
		cl.out = cl.out[:copy(cl.out, cl.out[n:])]
	}
	if err != nil && err != unix.EAGAIN && err != unix.EINTR {
		l.closeClient(c)
		return false
	}
	if len(cl.out) == 0 {
		if cap(cl.out) > 64<<10 {
			cl.out = nil
		}
		if cl.state == clClose {
			l.closeClient(c)
			return false
		}
		// Waiting for the next request: the idle timeout runs until its
		// first byte.
		l.setDeadline(c, l.now.Add(l.f.lim.IdleTimeout))
	}
	l.wantClient(c)
	return true
}
