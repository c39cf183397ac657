//go:build !linux

package bridge

import (
	"errors"
	"net"
)

// evServer is the Linux event loop (evloop_linux.go); elsewhere the plain
// listener is served by the goroutine loop alone.
type evServer struct{}

func newEvServer(*fastServer) (*evServer, error) {
	return nil, errors.New("no event loop on this platform")
}

func (*evServer) adopt(net.Conn)            {}
func (*evServer) adoptTLS(net.Conn, *evTLS) {}
func (*evServer) drain()                    {}
func (*evServer) stop()                     {}
func (*evServer) scan()                     {}
func (*evServer) open() int64               { return 0 }
