package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// CDN is what the engine needs of CloudFront for the alias-move and bridge
// strategies, in the SDK-free terms of package cdn; the CloudFront adapter
// (internal/edge/cloudfront) implements it.
type CDN interface {
	Distribution(ctx context.Context, id string) (cdn.Distribution, error)
	UpdateAliases(ctx context.Context, id string, add, remove []string) (cdn.Distribution, error)
	AssociateAlias(ctx context.Context, targetID, alias string) error
}

func (e *Engine) cdn(run *store.Run, s runbook.Step) (CDN, error) {
	if e.o.CDN == nil {
		return nil, fmt.Errorf("step %s needs CloudFront, and the engine has no CloudFront client", s.ID)
	}
	return e.o.CDN, nil
}

// execAliases adds and removes aliases; UpdateAliases is idempotent, so a
// step interrupted after the call is simply called again.
func (e *Engine) execAliases(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	edge, err := e.cdn(run, s)
	if err != nil {
		return e.pause(ctx, run, store.EventAliasesFailed, "%v", err)
	}
	a := s.Aliases
	// The distribution before the change, for the audit trail; a failed
	// read only leaves it out.
	before, berr := edge.Distribution(ctx, a.Distribution)
	if err := e.fence(ctx, run.Hostname); err != nil {
		return err
	}
	d, err := edge.UpdateAliases(ctx, a.Distribution, a.Add, a.Remove)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return e.pause(ctx, run, store.EventAliasesFailed, "step %s: %s: %v", s.ID, s.Title, err)
	}
	now := strings.Join(d.Aliases, ", ")
	if now == "" {
		now = "no aliases"
	}
	data := aliasesData{Distribution: d}
	if berr == nil {
		data.Before = &before
	}
	return e.advance(ctx, run, evData(store.EventAliasesUpdated, mustJSON(data), "step %s: %s (now %s)", s.ID, s.Title, now))
}

// aliasesData is the Data of EventAliasesUpdated: the distribution after
// the change (its fields at the top level) and, when it could be read,
// the distribution before it.
type aliasesData struct {
	cdn.Distribution
	Before *cdn.Distribution `json:"before,omitempty"`
}

// associateData is the Data of EventAssociateDone.
type associateData struct {
	Alias  string `json:"alias"`
	From   string `json:"from,omitempty"`
	Target string `json:"target"`
	// Changes holds each distribution AssociateAlias changed, source first.
	Changes []cdnChange `json:"changes,omitempty"`
}

// cdnChange is one distribution before and after a CloudFront call.
type cdnChange struct {
	Distribution string           `json:"distribution"`
	Before       cdn.Distribution `json:"before"`
	After        cdn.Distribution `json:"after"`
}

// execAssociate moves an alias with AssociateAlias, unless the target
// already holds it (an interrupted step, resumed).
func (e *Engine) execAssociate(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	edge, err := e.cdn(run, s)
	if err != nil {
		return e.pause(ctx, run, store.EventAssociateFailed, "%v", err)
	}
	a := s.Associate
	d, terr := edge.Distribution(ctx, a.Target)
	if terr == nil && d.HasAlias(a.Alias) {
		return e.advance(ctx, run, ev(store.EventAssociateSkipped, "step %s: %s already on %s", s.ID, a.Alias, a.Target))
	}
	data := associateData{Alias: a.Alias, From: a.From, Target: a.Target}
	var fromBefore cdn.Distribution
	var ferr error
	if a.From != "" {
		fromBefore, ferr = edge.Distribution(ctx, a.From)
	}
	if err := e.fence(ctx, run.Hostname); err != nil {
		return err
	}
	if err := edge.AssociateAlias(ctx, a.Target, a.Alias); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return e.pause(ctx, run, store.EventAssociateFailed, "step %s: moving %s to %s: %v", s.ID, a.Alias, a.Target, err)
	}
	// AssociateAlias returns nothing: read both distributions after it so
	// the log holds each one's aliases and ETag before and after the move.
	if a.From != "" && ferr == nil && fromBefore.HasAlias(a.Alias) {
		if after, err := edge.Distribution(ctx, a.From); err == nil {
			data.Changes = append(data.Changes, cdnChange{Distribution: a.From, Before: fromBefore, After: after})
		}
	}
	if terr == nil {
		if after, err := edge.Distribution(ctx, a.Target); err == nil {
			data.Changes = append(data.Changes, cdnChange{Distribution: a.Target, Before: d, After: after})
		}
	}
	return e.advance(ctx, run, evData(store.EventAssociateDone, mustJSON(data), "step %s: alias %s moved from %s to %s", s.ID, a.Alias, a.From, a.Target))
}

// execWatchAlias waits for someone else to move the alias. The deadline is
// stored; when it passes, the run rolls back to exactly where it started.
func (e *Engine) execWatchAlias(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	edge, err := e.cdn(run, s)
	if err != nil {
		return e.pause(ctx, run, store.EventWatchFailed, "%v", err)
	}
	w := s.WatchAlias
	key := e.timerKey(*run, s)
	deadline, ok := run.Timers[key]
	if !ok {
		deadline = e.o.Clock.Now().Add(w.Timeout.D())
		run.Timers[key] = deadline
		if err := e.commit(ctx, run, ev(store.EventWatchStarted, "step %s: watching %s for alias %s until %s", s.ID, w.Target, w.Alias, deadline.UTC().Format(time.RFC3339))); err != nil {
			return err
		}
	}
	poll := w.Poll.D()
	if poll <= 0 {
		poll = time.Second
	}
	for {
		d, err := edge.Distribution(ctx, w.Target)
		if err == nil && d.HasAlias(w.Alias) {
			delete(run.Timers, key)
			return e.advance(ctx, run, ev(store.EventWatchSeen, "step %s: alias %s is on %s", s.ID, w.Alias, w.Target))
		}
		if !e.o.Clock.Now().Before(deadline) {
			reason := fmt.Sprintf("step %s: alias %s did not arrive on %s within %s", s.ID, w.Alias, w.Target, w.Timeout.D())
			if err := e.startRollback(ctx, rb, run, reason, true); err != nil {
				return err
			}
			return errPaused
		}
		next := e.o.Clock.Now().Add(poll)
		if next.After(deadline) {
			next = deadline
		}
		if err := e.sleepUntil(ctx, rb, run, next, nil); err != nil {
			return err
		}
	}
}

// execDeployed waits for every listed distribution to be Deployed, then
// for the settle time.
func (e *Engine) execDeployed(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	edge, err := e.cdn(run, s)
	if err != nil {
		return e.pause(ctx, run, store.EventDeployedFailed, "%v", err)
	}
	dep := s.Deployed
	key := e.timerKey(*run, s)
	deadline, ok := run.Timers[key]
	if !ok {
		deadline = e.o.Clock.Now().Add(dep.Timeout.D())
		run.Timers[key] = deadline
		if err := e.commit(ctx, run); err != nil {
			return err
		}
	}
	settleKey := key + "/settle"
	if _, settling := run.Timers[settleKey]; !settling {
		for {
			pending := ""
			for _, id := range dep.Distributions {
				d, err := edge.Distribution(ctx, id)
				if err != nil || !d.Deployed() {
					pending = id
					break
				}
			}
			if pending == "" {
				break
			}
			if !e.o.Clock.Now().Before(deadline) {
				return e.pause(ctx, run, store.EventDeployedTimeout, "step %s: distribution %s not Deployed after %s", s.ID, pending, dep.Timeout.D())
			}
			if err := e.sleepUntil(ctx, rb, run, e.o.Clock.Now().Add(e.o.Poll), nil); err != nil {
				return err
			}
		}
		run.Timers[settleKey] = e.o.Clock.Now().Add(dep.Settle.D())
		if err := e.commit(ctx, run, ev(store.EventDeployed, "step %s: %s Deployed; settling %s", s.ID, strings.Join(dep.Distributions, ", "), dep.Settle.D())); err != nil {
			return err
		}
	}
	if err := e.sleepUntil(ctx, rb, run, run.Timers[settleKey], nil); err != nil {
		return err
	}
	delete(run.Timers, key)
	delete(run.Timers, settleKey)
	return e.advance(ctx, run)
}
