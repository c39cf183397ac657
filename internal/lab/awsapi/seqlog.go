package awsapi

import "sync"

// seqLog is an append-only log whose entries are numbered 1, 2, …: entry
// n is at index n-1, so the entries after a sequence number are a suffix.
// History and CallLog keep theirs in one.
type seqLog[T any] struct {
	mu      sync.Mutex
	entries []T
}

// add appends the entry that entry makes for the next sequence number.
func (l *seqLog[T]) add(entry func(seq int64) T) T {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := entry(int64(len(l.entries) + 1))
	l.entries = append(l.entries, e)
	return e
}

// list returns the entries after since that keep selects, oldest first
// (never nil).
func (l *seqLog[T]) list(since int64, keep func(T) bool) []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []T{}
	if since < 0 {
		since = 0
	}
	if since >= int64(len(l.entries)) {
		return out
	}
	for _, e := range l.entries[since:] {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// len is the number of entries so far: the sequence number of the last.
func (l *seqLog[T]) len() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.entries))
}

// reset empties the log; numbering starts again at 1.
func (l *seqLog[T]) reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}
