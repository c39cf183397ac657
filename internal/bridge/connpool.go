package bridge

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// upConn is one HTTP/1.1 connection to an upstream, owned by exactly one
// request at a time: taken from the pool, used on the handler's goroutine,
// then returned or closed.
type upConn struct {
	conn     net.Conn
	src      budgetReader // what br reads from: conn, within a byte budget
	body     bodyReader   // the response body being read
	br       *bufio.Reader
	bw       *bufio.Writer
	idleFrom time.Time
	deadline time.Time  // the connection's read and write deadline; zero: none
	reused   bool       // served a request before this one
	ready    *readiness // nil for TLS: records may sit decrypted in tls.Conn
}

// connPool keeps idle keep-alive connections to one upstream. Connections
// are handed out newest first: a recently used connection is the least
// likely to have been closed by the upstream's own idle timeout.
type connPool struct {
	addr        string
	tlsConfig   *tls.Config // nil: plain TCP
	dialer      *net.Dialer
	maxIdle     int
	idleTimeout time.Duration
	now         func() time.Time

	mu   sync.Mutex
	idle []*upConn
	// gone: the upstream left the configuration and nothing is kept idle
	// any more. Set under mu; read without it by the event loops.
	gone atomic.Bool

	dials, reuses, brokenIdle atomic.Int64
}

// ioBufSize is the size of the pooled bufio readers and writers on upstream
// connections: large enough for typical response headers in one read.
const ioBufSize = 16 << 10

var (
	readerPool sync.Pool // *bufio.Reader
	writerPool sync.Pool // *bufio.Writer
)

// budgetReader fails once it has read n bytes. It bounds response headers
// (as the Transport's MaxResponseHeaderBytes does) and is lifted for bodies.
type budgetReader struct {
	r io.Reader
	n int64
}

var errHeadersTooLarge = errors.New("upstream response headers too large")

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errHeadersTooLarge
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// maxResponseHeaderBytes bounds what an upstream may send before the end of
// a response's header block (interim responses included).
const maxResponseHeaderBytes = 1 << 20

func newUpConn(c net.Conn) *upConn {
	uc := &upConn{conn: c, src: budgetReader{r: c, n: math.MaxInt64}}
	br, _ := readerPool.Get().(*bufio.Reader)
	if br == nil {
		br = bufio.NewReaderSize(&uc.src, ioBufSize)
	} else {
		br.Reset(&uc.src)
	}
	bw, _ := writerPool.Get().(*bufio.Writer)
	if bw == nil {
		bw = bufio.NewWriterSize(c, ioBufSize)
	} else {
		bw.Reset(c)
	}
	uc.br, uc.bw = br, bw
	if _, isTLS := c.(*tls.Conn); !isTLS {
		uc.ready = newReadiness(c)
	}
	return uc
}

// close closes the connection and recycles its buffers.
func (uc *upConn) close() {
	_ = uc.conn.Close()
	uc.br.Reset(nil)
	uc.bw.Reset(nil)
	readerPool.Put(uc.br)
	writerPool.Put(uc.bw)
	uc.br, uc.bw = nil, nil
}

// get returns an idle connection when one is fresh enough, without dialing.
func (p *connPool) get() *upConn {
	now := p.now()
	p.mu.Lock()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		uc := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if now.Sub(uc.idleFrom) < p.idleTimeout {
			p.mu.Unlock()
			if !uc.deadline.IsZero() && !now.Before(uc.deadline) {
				// Expired while idle; the peek below would only see that.
				_ = uc.conn.SetDeadline(time.Time{})
				uc.deadline = time.Time{}
			}
			if uc.ready != nil && uc.ready.idleBroken() {
				// Closed by the upstream, or bytes nobody asked for that
				// would be taken for the next request's response.
				p.brokenIdle.Add(1)
				uc.close()
				p.mu.Lock()
				continue
			}
			uc.reused = true
			p.reuses.Add(1)
			return uc
		}
		// Everything below it is older still.
		stale := append([]*upConn{uc}, p.idle...)
		clear(p.idle)
		p.idle = p.idle[:0]
		p.mu.Unlock()
		for _, s := range stale {
			s.close()
		}
		return nil
	}
	p.mu.Unlock()
	return nil
}

// dial opens a new connection (and completes TLS when configured).
func (p *connPool) dial(ctx context.Context) (*upConn, error) {
	c, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if p.tlsConfig != nil {
		tc := tls.Client(c, p.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			return nil, err
		}
		if proto := tc.ConnectionState().NegotiatedProtocol; proto != "" && proto != "http/1.1" {
			_ = c.Close()
			return nil, fmt.Errorf("upstream %s negotiated %q, want http/1.1", p.addr, proto)
		}
		c = tc
	}
	p.dials.Add(1)
	return newUpConn(c), nil
}

// put returns a connection whose last exchange ended cleanly. The oldest
// idle connection is closed when it outlived the idle timeout or the pool is
// full, so a burst does not leave sockets behind forever.
func (p *connPool) put(uc *upConn) {
	now := p.now()
	uc.idleFrom = now
	var drop *upConn
	p.mu.Lock()
	if p.gone.Load() {
		p.mu.Unlock()
		uc.close()
		return
	}
	if len(p.idle) > 0 && (len(p.idle) >= p.maxIdle || now.Sub(p.idle[0].idleFrom) >= p.idleTimeout) {
		drop = p.idle[0]
		copy(p.idle, p.idle[1:])
		p.idle[len(p.idle)-1] = nil
		p.idle = p.idle[:len(p.idle)-1]
	}
	p.idle = append(p.idle, uc)
	p.mu.Unlock()
	if drop != nil {
		drop.close()
	}
}

// closeIdle closes every idle connection; with final set the pool keeps no
// connection afterwards (the upstream left the configuration).
func (p *connPool) closeIdle(final bool) {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	if final {
		p.gone.Store(true)
	}
	p.mu.Unlock()
	for _, uc := range idle {
		uc.close()
	}
}

func (p *connPool) idleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}
