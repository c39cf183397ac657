//go:build unix

package bridge

import (
	"net"
	"syscall"
)

// readiness looks at an idle plain TCP upstream connection without reading
// from it. (Waiting on the runtime poller before the first read of a
// response is not possible through syscall.RawConn: preparing the wait drops
// a readiness edge that arrived earlier, and the read would hang.)
type readiness struct {
	raw     syscall.RawConn
	peekBad bool
	peekBuf [1]byte
	peek    func(uintptr) bool // bound once per connection: no per-call closure
}

func newReadiness(c net.Conn) *readiness {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &readiness{raw: raw}
	r.peek = func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), r.peekBuf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Only "nothing to read" is healthy: data is a response nobody
		// asked for, zero bytes is the upstream's close.
		r.peekBad = err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
		return true
	}
	return r
}

// idleBroken reports whether an idle connection has data or an end of
// stream waiting: either makes it unfit for the next request.
func (r *readiness) idleBroken() bool {
	if err := r.raw.Read(r.peek); err != nil {
		return true
	}
	return r.peekBad
}
