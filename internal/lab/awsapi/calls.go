package awsapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/clock"
)

// Call is one API request the lab answered, read or write, accepted or
// refused: who made it, which API operation it was and on which resource.
// Together the calls of a run are what its IAM policy must allow.
type Call struct {
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	// Account and Caller are the identity the request was signed as (an
	// assumed role's session ARN for temporary keys); empty when the
	// signature named no key the lab knows.
	Account string `json:"account,omitempty"`
	Caller  string `json:"caller,omitempty"`
	// Service is the IAM service prefix (cloudwatch, not its signing name
	// monitoring) and Operation the API operation. An operation needs one
	// IAM action or more, usually of the same name; the adapters' action
	// tables say which.
	Service   string `json:"service"`
	Operation string `json:"operation,omitempty"`
	// Resource is the ARN of the resource the action is authorized on,
	// as the Service Authorization Reference names it; empty for actions
	// without resource-level permissions (authorized on "*").
	Resource string `json:"resource,omitempty"`
	// Context holds the request's values of the condition keys a policy
	// can test (route53:ChangeResourceRecordSetsNormalizedRecordNames, …),
	// where the service reports them.
	Context map[string][]string `json:"context,omitempty"`
	// Status is the HTTP status of the answer.
	Status int `json:"status"`
}

// CallLog is the lab's append-only log of every API call. Unlike History,
// it keeps reads and refusals too: it answers "what did this run need",
// not "what changed".
type CallLog struct {
	clock clock.Clock
	log   seqLog[Call]
}

// NewCallLog returns an empty call log stamped by clk.
func NewCallLog(clk clock.Clock) *CallLog { return &CallLog{clock: clk} }

// Record appends c, setting its sequence number and time.
func (l *CallLog) Record(c Call) Call {
	c.Time = l.clock.Now().UTC()
	return l.log.add(func(seq int64) Call { c.Seq = seq; return c })
}

// CallFilter selects calls; zero fields match everything.
type CallFilter struct {
	Service  string
	Account  string
	SinceSeq int64
}

// List returns the calls matching f, oldest first.
func (l *CallLog) List(f CallFilter) []Call {
	return l.log.list(f.SinceSeq, func(c Call) bool {
		return (f.Service == "" || c.Service == f.Service) && (f.Account == "" || c.Account == f.Account)
	})
}

// Len is the number of calls logged so far: the SinceSeq of the next one
// minus one.
func (l *CallLog) Len() int64 { return l.log.len() }

// CallNote is where a service writes which operation a request was and on
// which resource, for the lab to log once the answer is written.
type CallNote struct {
	mu        sync.Mutex
	operation string
	resource  string
	context   map[string][]string
}

// Get returns what the service noted.
func (n *CallNote) Get() (operation, resource string, context map[string][]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.operation, n.resource, n.context
}

type callNoteKey struct{}

// WithCallNote returns a context carrying n.
func WithCallNote(ctx context.Context, n *CallNote) context.Context {
	return context.WithValue(ctx, callNoteKey{}, n)
}

// NoteCall records, for the call log, that the request of ctx is operation on
// resource (an ARN, or "" when the action has no resource-level
// permissions). Services call it as soon as they know the operation, before
// validating the input, so a refused call is logged with its action too.
// Without a note in ctx (a service driven directly by a test) it does
// nothing; a later call overrides an earlier one, so a service can refine
// the resource once it has read the body.
func NoteCall(ctx context.Context, operation, resource string) {
	n, ok := ctx.Value(callNoteKey{}).(*CallNote)
	if !ok {
		return
	}
	n.mu.Lock()
	n.operation, n.resource = operation, resource
	n.mu.Unlock()
}

// NoteCallContext records the values of a condition key for the request
// of ctx (see NoteCall).
func NoteCallContext(ctx context.Context, key string, values []string) {
	n, ok := ctx.Value(callNoteKey{}).(*CallNote)
	if !ok {
		return
	}
	n.mu.Lock()
	if n.context == nil {
		n.context = map[string][]string{}
	}
	n.context[key] = values
	n.mu.Unlock()
}

// StatusWriter remembers the status a handler answered with (200 when it
// wrote a body without calling WriteHeader).
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records the status and passes it on.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
