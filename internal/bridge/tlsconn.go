package bridge

import (
	"crypto/tls"
	"net"
	"time"
)

// loopConn is the transport under a tls.Conn whose socket can move to an
// event loop and back. The handshake runs on a goroutine over nc, a
// blocking connection; once a loop owns the socket, nc is nil and the
// tls.Conn reads the ciphertext the loop read from the socket (in) and
// writes its records to out for the loop to send. When the loop passes the
// connection on to a goroutine, nc is set again: what is left of in is read
// first, and out is written first.
//
// crypto/tls keeps a partial record across a read that fails with a
// temporary error, so an incomplete record simply waits for the loop's
// next read; the loop never blocks on TLS.
type loopConn struct {
	nc           net.Conn // nil while a loop owns the socket
	in           []byte   // ciphertext read by the loop and not yet taken by TLS
	out          []byte   // records TLS wrote and the socket did not take yet
	laddr, raddr net.Addr
}

func newLoopConn(nc net.Conn) *loopConn {
	return &loopConn{nc: nc, laddr: nc.LocalAddr(), raddr: nc.RemoteAddr()}
}

// errWouldBlock is what a tls.Conn on a loop reads when the loop has no
// more ciphertext for it. It is temporary, so crypto/tls keeps the
// connection usable.
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "tls record incomplete: waiting for the socket" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

func (c *loopConn) Read(p []byte) (int, error) {
	if len(c.in) > 0 {
		n := copy(p, c.in)
		c.in = c.in[n:]
		return n, nil
	}
	if c.nc == nil {
		return 0, errWouldBlock
	}
	return c.nc.Read(p)
}

func (c *loopConn) Write(p []byte) (int, error) {
	if c.nc == nil {
		c.out = append(c.out, p...)
		return len(p), nil
	}
	if len(c.out) > 0 {
		out := c.out
		c.out = nil
		if _, err := c.nc.Write(out); err != nil {
			return 0, err
		}
	}
	return c.nc.Write(p)
}

// resume gives the connection back to blocking use over nc, the socket
// the loop owned. Records the loop had not sent yet go out first.
func (c *loopConn) resume(nc net.Conn) error {
	c.nc = nc
	c.in = append([]byte(nil), c.in...) // the loop's read buffer is its own
	if len(c.out) > 0 {
		out := c.out
		c.out = nil
		if _, err := nc.Write(out); err != nil {
			return err
		}
	}
	return nil
}

func (c *loopConn) Close() error {
	if c.nc == nil {
		return nil // the loop closes the socket
	}
	return c.nc.Close()
}

func (c *loopConn) LocalAddr() net.Addr  { return c.laddr }
func (c *loopConn) RemoteAddr() net.Addr { return c.raddr }

func (c *loopConn) SetDeadline(t time.Time) error {
	if c.nc == nil {
		return nil // the loop keeps its own deadlines
	}
	return c.nc.SetDeadline(t)
}

func (c *loopConn) SetReadDeadline(t time.Time) error {
	if c.nc == nil {
		return nil
	}
	return c.nc.SetReadDeadline(t)
}

func (c *loopConn) SetWriteDeadline(t time.Time) error {
	if c.nc == nil {
		return nil
	}
	return c.nc.SetWriteDeadline(t)
}

// evTLS is the TLS of an event loop's connection: the loop reads ciphertext
// from the socket into lc and takes plaintext from tc, and sends what tc
// wrote to lc.
type evTLS struct {
	tc *tls.Conn
	lc *loopConn
}
