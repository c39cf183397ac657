package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// Serve executes the store's runs (Run) and answers the API on ln until
// ctx is done, then shuts both down: open requests get a few seconds, the
// engines stop where they are.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// Requests live in a context of their own, ended at shutdown, so that
	// event streams (which never end on their own) let Shutdown finish.
	reqCtx, endRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer endRequests()
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return reqCtx }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		if !s.o.ShowOnly {
			_ = s.Run(ctx)
		}
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	stop()
	endRequests()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); serr != nil {
		_ = hs.Close()
	}
	<-runDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Loopback reports whether a listen address binds only the loopback
// interface (127.0.0.0/8, ::1, localhost).
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
