package awsapi

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/clock"
)

// Change is one accepted write to the lab's world: which account and caller
// did what to which resource, with the resource before and after.
type Change struct {
	Seq       int64           `json:"seq"`
	Time      time.Time       `json:"time"`
	Account   string          `json:"account"`
	Caller    string          `json:"caller"`
	Service   string          `json:"service"`
	Operation string          `json:"operation"`
	Resource  string          `json:"resource"`
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
}

// History is the lab's append-only change log. Only accepted writes are
// recorded; a rejected request leaves no trace, as it leaves none in AWS.
type History struct {
	clock clock.Clock
	log   seqLog[Change]
	mu    sync.Mutex // guards subs
	subs  []chan Change
}

// NewHistory returns an empty history stamped by clk.
func NewHistory(clk clock.Clock) *History { return &History{clock: clk} }

// Record appends a change. before and after are marshalled to JSON now, so
// later mutation of the values cannot rewrite history. A nil value is
// omitted.
func (h *History) Record(id Identity, service, operation, resource string, before, after any) Change {
	c := Change{
		Time:      h.clock.Now().UTC(),
		Account:   id.AccountID,
		Caller:    id.ARN,
		Service:   service,
		Operation: operation,
		Resource:  resource,
		Before:    marshalOrNil(before),
		After:     marshalOrNil(after),
	}
	c = h.log.add(func(seq int64) Change { c.Seq = seq; return c })
	h.mu.Lock()
	subs := append([]chan Change(nil), h.subs...)
	h.mu.Unlock()
	for _, s := range subs {
		select {
		case s <- c:
		default: // a slow subscriber misses live events but can always List
		}
	}
	return c
}

func marshalOrNil(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil
	}
	return b
}

// Filter selects history entries; zero fields match everything.
type Filter struct {
	Service  string
	Resource string
	SinceSeq int64
}

// List returns the entries matching f, oldest first.
func (h *History) List(f Filter) []Change {
	return h.log.list(f.SinceSeq, func(c Change) bool {
		return (f.Service == "" || c.Service == f.Service) && (f.Resource == "" || c.Resource == f.Resource)
	})
}

// Subscribe returns a channel that receives each new change. Delivery is
// best effort (a full buffer drops); List is the source of truth.
func (h *History) Subscribe(buffer int) <-chan Change {
	ch := make(chan Change, buffer)
	h.mu.Lock()
	h.subs = append(h.subs, ch)
	h.mu.Unlock()
	return ch
}
