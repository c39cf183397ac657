package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/webhook"
)

// Webhooks calls a plan's webhooks (package webhook does it over HTTP). A
// nil error means the receiver answered 2xx.
type Webhooks interface {
	Call(ctx context.Context, h runbook.Webhook, p webhook.Payload) error
}

// Data keys of the webhooks.
const (
	keyHooks        = "hooks"         // int: the step whose entry webhooks passed
	keyRollbackHook = "rollback_hook" // bool: the rollback webhooks were called
)

// hookCall is one webhook call with its document.
type hookCall struct {
	hook    runbook.Webhook
	payload webhook.Payload
}

// entryHooks runs, once before step i of the plan starts (i == len(steps)
// before the run is done), the post-step webhooks of step i-1, the
// confirm-promotion webhooks when step i sends all traffic to the new
// edge, and the pre-step webhooks of step i. A rejection holds the run —
// retried every Poll, gates still watched, operator requests honoured —
// and after ErrorLimit rejections in a row the run pauses. Passing is
// recorded, so a restart does not call them again.
func (e *Engine) entryHooks(ctx context.Context, rb *runbook.Runbook, run *store.Run) error {
	i := run.Step
	if run.State != store.StateRunning || len(rb.Webhooks) == 0 || run.StepPhase != "" || hooksPassed(*run) >= i {
		return nil
	}
	calls := e.entryCalls(rb, *run, i)
	if len(calls) == 0 {
		return e.markHooks(ctx, run, i, nil)
	}
	if e.o.Webhooks == nil {
		return e.pause(ctx, run, store.EventWebhookFailed, "before step %d: the plan has webhooks but no webhook client is configured", i+1)
	}
	for rejected := 1; ; rejected++ {
		err := e.callAll(ctx, calls)
		if err == nil {
			return e.markHooks(ctx, run, i, calls)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if rejected >= e.o.ErrorLimit {
			return e.pause(ctx, run, store.EventWebhookFailed, "before step %d: webhook rejected %d times in a row, the last: %v", i+1, rejected, err)
		}
		if err := e.commit(ctx, run, ev(store.EventWebhookRejected, "before step %d: %v; the run holds and retries in %s", i+1, err, e.o.Poll)); err != nil {
			return err
		}
		if err := e.sleepUntil(ctx, rb, run, e.o.Clock.Now().Add(e.o.Poll), e.watching(rb, *run)); err != nil {
			return err
		}
	}
}

func (e *Engine) callAll(ctx context.Context, calls []hookCall) error {
	for _, c := range calls {
		if err := e.o.Webhooks.Call(ctx, c.hook, c.payload); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) markHooks(ctx context.Context, run *store.Run, i int, calls []hookCall) error {
	raw, _ := json.Marshal(i)
	run.Data[keyHooks] = raw
	if len(calls) == 0 {
		return e.commit(ctx, run)
	}
	names := make([]string, len(calls))
	for j, c := range calls {
		names[j] = c.hook.Type + " " + c.hook.Name
	}
	return e.commit(ctx, run, ev(store.EventWebhookPassed, "before step %d: webhooks passed (%s)", i+1, strings.Join(names, ", ")))
}

func hooksPassed(run store.Run) int {
	i := -1
	if raw, ok := run.Data[keyHooks]; ok {
		_ = json.Unmarshal(raw, &i)
	}
	return i
}

// entryCalls lists the calls due before step i, in plan order per type.
func (e *Engine) entryCalls(rb *runbook.Runbook, run store.Run, i int) []hookCall {
	var calls []hookCall
	add := func(typ string, at int) {
		for _, h := range rb.Webhooks {
			if h.Type == typ {
				calls = append(calls, hookCall{hook: h, payload: e.payload(rb, run, h, typ, rb.Steps, at)})
			}
		}
	}
	if i > 0 {
		add(runbook.HookPostStep, i-1)
	}
	if i < len(rb.Steps) {
		if promotes(rb.Steps, i) {
			add(runbook.HookConfirmPromotion, i)
		}
		add(runbook.HookPreStep, i)
	}
	return calls
}

// rollbackHooks tells the rollback webhooks, once the rollback's first step
// (which reverts the records) is done. A rollback never waits on a
// receiver: a rejection is logged, not held.
func (e *Engine) rollbackHooks(ctx context.Context, rb *runbook.Runbook, run *store.Run, steps []runbook.Step) error {
	if run.State != store.StateRollingBack || (run.Step < 1 && run.Step < len(steps)) {
		return nil
	}
	if _, done := run.Data[keyRollbackHook]; done {
		return nil
	}
	var events []store.Event
	for _, h := range rb.Webhooks {
		if h.Type != runbook.HookRollback {
			continue
		}
		if e.o.Webhooks == nil {
			events = append(events, ev(store.EventWebhookRejected, "rollback webhook %s: no webhook client configured", h.Name))
			continue
		}
		p := e.payload(rb, *run, h, runbook.HookRollback, steps, run.Step-1)
		if err := e.o.Webhooks.Call(ctx, h, p); err != nil {
			events = append(events, ev(store.EventWebhookRejected, "rollback webhook: %v (a rollback never waits on a webhook)", err))
			continue
		}
		events = append(events, ev(store.EventWebhookPassed, "rollback webhook %s told", h.Name))
	}
	run.Data[keyRollbackHook] = json.RawMessage("true")
	return e.commit(ctx, run, events...)
}

// promotes reports whether step i is the one that sends all traffic to
// the new edge: the first change to 100 %, or the alias move or staging
// promotion.
func promotes(steps []runbook.Step, i int) bool {
	is := func(s runbook.Step) bool {
		switch {
		case s.Change != nil:
			return s.Change.Weights != nil && s.Change.Weights.New == 100
		case s.Associate != nil, s.WatchAlias != nil:
			return true
		case s.Staging != nil:
			return s.Staging.Op == "promote"
		}
		return false
	}
	if !is(steps[i]) {
		return false
	}
	for _, s := range steps[:i] {
		if is(s) {
			return false
		}
	}
	return true
}

func (e *Engine) payload(rb *runbook.Runbook, run store.Run, h runbook.Webhook, typ string, steps []runbook.Step, at int) webhook.Payload {
	p := webhook.Payload{Type: typ, Run: run.Name, Hostname: strings.TrimSuffix(rb.Hostname, "."), Strategy: rb.Strategy, State: string(run.State), Time: e.o.Clock.Now().UTC()}
	id := "end"
	if at >= 0 && at < len(steps) {
		s := steps[at]
		id = s.ID
		p.Step = &webhook.Step{Index: at + 1, ID: s.ID, Title: s.Title, Kind: s.Kind()}
	}
	if typ == runbook.HookRollback {
		p.Reason = run.Reason
		id = "rollback"
	}
	limit := at
	if typ == runbook.HookPostStep || typ == runbook.HookRollback {
		limit = at + 1 // the step is done: its change is live
	}
	p.Weights = liveWeights(steps, limit)
	p.Delivery = fmt.Sprintf("%s/%s/%s/%s", run.Name, typ, id, h.Name)
	return p
}

// liveWeights is the split the changes among steps[:n] left live.
func liveWeights(steps []runbook.Step, n int) *runbook.Weights {
	w := &runbook.Weights{Old: 100, New: 0}
	for i := 0; i < n && i < len(steps); i++ {
		if c := steps[i].Change; c != nil && c.Weights != nil {
			x := *c.Weights
			w = &x
		}
	}
	return w
}
