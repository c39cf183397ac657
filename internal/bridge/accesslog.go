package bridge

import (
	"context"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// accessLogQueue is how many access log records may wait for the sink.
const accessLogQueue = 8192

// accessLog writes access log records on a goroutine of its own, so that a
// slow sink (a pipe nobody drains fast enough, a full disk) never holds up
// requests, least of all an event loop serving thousands of connections.
// Records that find the queue full are dropped and counted.
type accessLog struct {
	next    slog.Handler
	q       *accessQueue
	dropped prometheus.Counter
}

type accessQueue struct {
	records chan queuedRecord
	done    chan struct{}
	mu      sync.RWMutex // closed and the channel's close
	closed  bool
}

type queuedRecord struct {
	h slog.Handler
	r slog.Record
}

func newAccessLog(next slog.Handler, size int, dropped prometheus.Counter) *accessLog {
	q := &accessQueue{records: make(chan queuedRecord, size), done: make(chan struct{})}
	go func() {
		defer close(q.done)
		for e := range q.records {
			_ = e.h.Handle(context.Background(), e.r)
		}
	}()
	return &accessLog{next: next, q: q, dropped: dropped}
}

func (a *accessLog) Enabled(ctx context.Context, l slog.Level) bool { return a.next.Enabled(ctx, l) }

func (a *accessLog) Handle(_ context.Context, r slog.Record) error {
	a.q.mu.RLock()
	defer a.q.mu.RUnlock()
	if a.q.closed {
		a.dropped.Inc()
		return nil
	}
	select {
	case a.q.records <- queuedRecord{h: a.next, r: r.Clone()}:
	default:
		a.dropped.Inc()
	}
	return nil
}

func (a *accessLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &accessLog{next: a.next.WithAttrs(attrs), q: a.q, dropped: a.dropped}
}

func (a *accessLog) WithGroup(name string) slog.Handler {
	return &accessLog{next: a.next.WithGroup(name), q: a.q, dropped: a.dropped}
}

// close writes out what is queued and stops the writer. Records handled
// after close are dropped.
func (a *accessLog) close() {
	a.q.mu.Lock()
	if !a.q.closed {
		a.q.closed = true
		close(a.q.records)
	}
	a.q.mu.Unlock()
	<-a.q.done
}
