package lab

import (
	"fmt"
	"net/http"
)

// motoReset is the path moto's own client code posts to between tests; the
// lab answers it like POST /_lab/reset, so suites written for moto's server
// mode reset the lab unchanged.
const motoReset = "/moto-api/reset"

// Mark takes the lab's state now as the one Reset returns to: the world
// calls it once the seed (or a snapshot) is in. A new lab is marked empty.
func (l *Lab) Mark() {
	snap, err := l.Snapshot()
	if err != nil {
		// Every service's state is plain data; a failure here is a bug.
		panic(fmt.Sprintf("lab: snapshot of the marked state: %v", err))
	}
	l.resetMu.Lock()
	l.seedSnap = snap
	l.resetMu.Unlock()
	l.Env.Keys.Mark()
}

// OnReset registers f to run after every Reset, after the control plane is
// back to its marked state: the data plane drops what it derived from the
// old world (edge configurations, origin faults).
func (l *Lab) OnReset(f func()) {
	l.resetMu.Lock()
	l.onReset = append(l.onReset, f)
	l.resetMu.Unlock()
}

// Reset returns the lab to its marked state: every service's resources,
// the change history (numbered from 1 again), the keys (STS's temporary
// ones are forgotten), and through OnReset the served DNS and the edges.
// Requests in flight during a reset see either world.
func (l *Lab) Reset() error {
	l.resetMu.Lock()
	snap, hooks := l.seedSnap, append([]func(){}, l.onReset...)
	l.resetMu.Unlock()
	if err := l.Restore(snap); err != nil {
		return fmt.Errorf("resetting the lab: %w", err)
	}
	l.Env.History.Reset()
	l.Env.Keys.Reset()
	for _, f := range hooks {
		f()
	}
	return nil
}

func (l *Lab) serveReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "reset takes POST"})
		return
	}
	if err := l.Reset(); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
}
