//go:build !unix

package bridge

import "net"

// readiness inspects idle connections on Unix systems only; elsewhere a
// dead idle connection is found by the request that uses it (and retried).
type readiness struct{}

func newReadiness(net.Conn) *readiness { return nil }

func (r *readiness) idleBroken() bool { return false }
