package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ssePoll bounds how long a stream goes without reading the store, for
// events written by other processes (an operator request from the CLI).
const ssePoll = time.Second

// sseHeartbeat is how often an idle stream sends a comment, so proxies and
// browsers keep it open.
const sseHeartbeat = 15 * time.Second

// stream is GET /api/v1/events: every event of one run (?run=) or of every
// run, starting with those already logged, as server-sent events. A client
// reconnecting with Last-Event-ID (RUN/SEQ) continues after that event.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("streaming unsupported"))
		return
	}
	ctx := r.Context()
	only := r.URL.Query().Get("run")
	if only != "" {
		if _, err := s.o.Store.GetRun(ctx, only); err != nil {
			writeStoreError(w, only, err)
			return
		}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": cutover events\n\n")
	fl.Flush()
	seen := lastEventIDs(r.Header.Get("Last-Event-ID"))
	idle := time.Now()
	for {
		wake := s.events.wait()
		names := []string{only}
		if only == "" {
			runs, err := s.o.Store.ListRuns(ctx)
			if err != nil {
				return
			}
			names = names[:0]
			for _, run := range runs {
				names = append(names, run.Name)
			}
		}
		wrote := false
		for _, name := range names {
			evs, err := s.o.Store.Events(ctx, name, seen[name])
			if err != nil {
				continue
			}
			for _, e := range evs {
				data, _ := json.Marshal(e)
				fmt.Fprintf(w, "id: %s/%d\nevent: %s\ndata: %s\n\n", e.Run, e.Seq, e.Type, data)
				seen[name] = e.Seq
				wrote = true
			}
		}
		if !wrote && time.Since(idle) >= sseHeartbeat {
			fmt.Fprint(w, ": ping\n\n")
			wrote = true
		}
		if wrote {
			fl.Flush()
			idle = time.Now()
		}
		t := time.NewTimer(ssePoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// lastEventIDs reads a Last-Event-ID header ("RUN/SEQ") into the sequence
// already seen per run.
func lastEventIDs(h string) map[string]int64 {
	seen := map[string]int64{}
	run, seq, ok := strings.Cut(strings.TrimSpace(h), "/")
	if !ok || run == "" {
		return seen
	}
	if n, err := strconv.ParseInt(seq, 10, 64); err == nil && n > 0 {
		seen[run] = n
	}
	return seen
}
