// Package notify tells people what a run is doing: on step started and
// completed, a gate failure, rollback started and finished, a pause, the
// end. Each message says what happened, the current weights and what the
// operator can do next. Receivers are Slack-compatible incoming webhooks
// ({"text": ...}) and a generic JSON webhook (Message).
//
// The engine never waits on a receiver: Notify only puts the event on a
// bounded queue (dropping, and counting, when it is full); one goroutine
// delivers, retrying each message with full-jitter exponential backoff.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/retry"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// Message is the generic JSON document, and what a Slack text is made of.
type Message struct {
	Run      string           `json:"run"`
	Hostname string           `json:"hostname"`
	Event    store.EventType  `json:"event"`
	Step     int              `json:"step"` // counting from 1
	Summary  string           `json:"summary"`
	Detail   string           `json:"detail"`
	Weights  *runbook.Weights `json:"weights,omitempty"`
	Next     string           `json:"next"`
	Time     time.Time        `json:"time"`
}

// Text renders the message for a chat channel.
func (m Message) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cutover %s (%s): %s — %s", m.Run, m.Hostname, m.Summary, m.Detail)
	if m.Weights != nil {
		fmt.Fprintf(&b, "\nweights: old %d%% / new %d%%", m.Weights.Old, m.Weights.New)
	}
	if m.Next != "" {
		b.WriteString("\nnext: " + m.Next)
	}
	return b.String()
}

// Options tune a Notifier.
type Options struct {
	// Queue is how many events wait for delivery at most. Default 256.
	Queue int
	// Attempts per message and receiver, the first included. Default 5.
	Attempts int
	// Backoff is the delay cap before retry n. Default 1s·2ⁿ up to 30s.
	Backoff func(n int) time.Duration
	// Timeout bounds one delivery. Default 5s.
	Timeout time.Duration
	// Clock sleeps between retries. Default the real clock.
	Clock clock.Clock
	// HTTP sends the messages. Default a plain client.
	HTTP *http.Client
	// Getenv reads url_env. Default os.Getenv.
	Getenv func(string) string
	// OnError, when set, hears about messages given up on.
	OnError func(receiver string, err error)
}

// Notifier delivers a run's notifications in the background.
type Notifier struct {
	rb      *runbook.Runbook
	o       Options
	q       chan store.Event
	done    chan struct{}
	stop    context.CancelFunc
	ctx     context.Context
	dropped atomic.Int64
	sent    atomic.Int64
	once    sync.Once
	weights *runbook.Weights // worker goroutine only
}

// New starts a notifier for the runbook's receivers; nil when it has none.
func New(rb *runbook.Runbook, o Options) *Notifier {
	if len(rb.Notify) == 0 {
		return nil
	}
	if o.Queue <= 0 {
		o.Queue = 256
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.Backoff == nil {
		o.Backoff = retry.Exponential(time.Second, 30*time.Second)
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	ctx, stop := context.WithCancel(context.Background())
	n := &Notifier{rb: rb, o: o, q: make(chan store.Event, o.Queue), done: make(chan struct{}), ctx: ctx, stop: stop}
	go n.loop()
	return n
}

// Notify queues an event without blocking; a full queue drops it. It has
// the signature of engine.Options.OnEvent. A nil Notifier ignores events.
func (n *Notifier) Notify(e store.Event) {
	if n == nil {
		return
	}
	select {
	case n.q <- e:
	default:
		n.dropped.Add(1)
	}
}

// Dropped is how many events a full queue dropped.
func (n *Notifier) Dropped() int64 { return n.dropped.Load() }

// Sent is how many messages receivers accepted.
func (n *Notifier) Sent() int64 { return n.sent.Load() }

// Close stops taking events and delivers what is queued until ctx ends.
func (n *Notifier) Close(ctx context.Context) {
	if n == nil {
		return
	}
	n.once.Do(func() { close(n.q) })
	select {
	case <-n.done:
	case <-ctx.Done():
		n.stop()
		<-n.done
	}
}

func (n *Notifier) loop() {
	defer close(n.done)
	for e := range n.q {
		m, ok := n.message(e)
		if !ok {
			continue
		}
		for _, r := range n.rb.Notify {
			if err := n.deliver(r, m); err != nil && n.o.OnError != nil {
				n.o.OnError(r.Name, err)
			}
		}
	}
}

func (n *Notifier) deliver(r runbook.Notify, m Message) error {
	url := r.URL
	if r.URLEnv != "" {
		url = n.o.Getenv(r.URLEnv)
		if url == "" {
			return fmt.Errorf("notify %s: environment variable %s is empty", r.Name, r.URLEnv)
		}
	}
	var body []byte
	if r.Kind == "slack" {
		body, _ = json.Marshal(map[string]string{"text": m.Text()})
	} else {
		body, _ = json.Marshal(m)
	}
	p := retry.Policy{MaxAttempts: n.o.Attempts, Backoff: n.o.Backoff, Rand: rand.Float64, Sleep: n.o.Clock.Sleep}
	err := retry.Do(n.ctx, p, func(ctx context.Context) error { return n.post(ctx, url, body) }, func(error) bool { return true })
	if err != nil {
		return fmt.Errorf("notify %s: %w", r.Name, err)
	}
	n.sent.Add(1)
	return nil
}

func (n *Notifier) post(ctx context.Context, url string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, n.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.o.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// pausing are the event types that pause a run.
var pausing = map[store.EventType]bool{
	store.EventRunPaused: true, store.EventGateFailed: true, store.EventGateInconclusive: true,
	store.EventGateError: true, store.EventGateMissing: true, store.EventChangeFailed: true,
	store.EventChangeConflict: true, store.EventChangeTimeout: true, store.EventVerifyUnavailable: true,
	store.EventVerifyTimeout: true, store.EventWebhookFailed: true,
	store.EventAliasesFailed: true, store.EventAssociateFailed: true, store.EventWatchFailed: true,
	store.EventDeployedFailed: true, store.EventDeployedTimeout: true, store.EventDrainTimeout: true,
	store.EventStagingFailed: true, store.EventStagingLost: true, store.EventStagingReady: true,
}

// message turns an event into a notification; ok is false for events
// nobody is told about (measurements, intents, webhook calls).
func (n *Notifier) message(e store.Event) (Message, bool) {
	if e.Type == store.EventChangeApplied || e.Type == store.EventChangeReconciled {
		var d struct {
			Weights *runbook.Weights `json:"weights"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.Weights != nil {
			n.weights = d.Weights
		}
	}
	name := n.rb.Name
	m := Message{Run: name, Hostname: strings.TrimSuffix(n.rb.Hostname, "."), Event: e.Type, Step: e.Step + 1, Detail: e.Message, Weights: n.weights, Time: e.Time}
	status := "`cutover status " + name + "`"
	switch {
	case e.Type == store.EventRunStarted:
		m.Summary, m.Next = "run started", "follow it with "+status+"; `cutover pause "+name+"` or `cutover rollback "+name+"` at any time"
	case e.Type == store.EventChangeIntent || e.Type == store.EventWaitStarted:
		m.Summary, m.Next = fmt.Sprintf("step %d started", m.Step), "nothing; "+status+" shows the deadline"
	case e.Type == store.EventChangeApplied || e.Type == store.EventChangeReconciled || e.Type == store.EventWaitDone:
		// The engine records a completion with the step it moved on to.
		m.Step = max(e.Step, 1)
		m.Summary, m.Next = fmt.Sprintf("step %d completed", m.Step), "nothing; `cutover rollback "+name+"` undoes"
	case e.Type == store.EventApprovalWaiting:
		m.Summary, m.Next = "waiting for approval", "`cutover promote "+name+"` continues, `cutover rollback "+name+"` undoes"
	case e.Type == store.EventApprovalGranted:
		m.Summary, m.Next = "approved", "nothing; `cutover rollback "+name+"` undoes"
	case e.Type == store.EventStepSkipped:
		m.Summary, m.Next = fmt.Sprintf("step %d skipped by operator", max(e.Step, 1)), "nothing; "+status
	case e.Type == store.EventApprovalTimeout:
		m.Summary, m.Next = "approval timed out", "if paused: `cutover promote "+name+"` approves, `cutover resume "+name+"` waits again; else the rollback follows"
	case e.Type == store.EventGateFailed:
		m.Summary, m.Next = "gate failed: run paused", "`cutover resume "+name+"` or `cutover rollback "+name+"`"
	case pausing[e.Type]:
		m.Summary, m.Next = "run paused", "`cutover resume "+name+"`, `cutover promote --skip-current-step "+name+"` for a gate that cannot decide, or `cutover rollback "+name+"`"
	case e.Type == store.EventRollbackStarted:
		m.Summary, m.Next = "rollback started", "nothing: the rollback runs on its own; "+status
	case e.Type == store.EventRunRolledBack:
		m.Summary, m.Next = "rollback finished", "find the cause, then apply the plan again under a new name"
	case e.Type == store.EventRunDone:
		m.Summary, m.Next = "done", "nothing; the old edge can be decommissioned once the hold is over"
	default:
		return Message{}, false
	}
	return m, true
}
