package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// StagingCDN is what the engine needs of CloudFront for the staging
// strategy (continuous deployment). It is found on Options.CDN by type
// assertion, so CDN stays small for the strategies that do not need it.
// Failures are matched with errors.Is on package cdn's sentinels.
type StagingCDN interface {
	Distribution(ctx context.Context, id string) (cdn.Distribution, error)
	CopyToStaging(ctx context.Context, primaryID, callerRef string) (cdn.Distribution, error)
	CreatePolicy(ctx context.Context, stagingDomain string, t cdn.Traffic) (id, etag string, err error)
	AttachPolicy(ctx context.Context, primaryID, policyID string) (cdn.Distribution, error)
	UpdatePolicy(ctx context.Context, policyID string, t cdn.Traffic, enabled bool) error
	Promote(ctx context.Context, primaryID, stagingID string) (cdn.Distribution, error)
	Abort(ctx context.Context, primaryID, stagingID, policyID string) error
}

// Run data of the staging strategy. Each id is committed as soon as the
// call that created it returns, before any other call, so a resumed run
// never creates a second one.
const (
	keyStagingID      = "staging_id"      // string: the staging distribution
	keyStagingDomain  = "staging_domain"  // string: its *.cloudfront.net name
	keyStagingPolicy  = "staging_policy"  // string: the continuous deployment policy
	keyStagingTraffic = "staging_traffic" // cdn.Traffic last set on the policy
	keyStagingDone    = "staging_promoted"
)

// stagingDeployTimeout bounds the wait for the staging copy to deploy
// before traffic is sent to it.
const stagingDeployTimeout = time.Hour

// StagingCallerRef is the CallerReference of a run's staging copy. It is
// derived from the run, not random, so that a copy repeated after a crash
// is refused by CloudFront (DistributionAlreadyExists) instead of creating
// a second staging distribution.
func StagingCallerRef(run store.Run) string {
	return fmt.Sprintf("cutover-%s-%d", run.Name, run.CreatedAt.UnixNano())
}

func (e *Engine) stagingCDN(s runbook.Step) (StagingCDN, error) {
	edge, ok := e.o.CDN.(StagingCDN)
	if !ok {
		return nil, fmt.Errorf("step %s needs CloudFront continuous deployment, and the engine has no client for it", s.ID)
	}
	return edge, nil
}

// execStaging runs one continuous deployment operation.
func (e *Engine) execStaging(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	edge, err := e.stagingCDN(s)
	if err != nil {
		return e.pause(ctx, run, store.EventStagingFailed, "%v", err)
	}
	switch s.Staging.Op {
	case runbook.StagingCopy:
		err = e.stagingCopy(ctx, edge, run, s)
	case runbook.StagingPolicy:
		err = e.stagingPolicy(ctx, edge, rb, run, s)
	case runbook.StagingTraffic:
		err = e.stagingTraffic(ctx, edge, run, s)
	case runbook.StagingPromote:
		err = e.stagingPromote(ctx, edge, run, s)
	case runbook.StagingAbort:
		err = e.stagingAbort(ctx, edge, rb, run, s)
	default:
		return e.pause(ctx, run, store.EventStagingFailed, "step %s: unknown staging operation %q", s.ID, s.Staging.Op)
	}
	if err == nil || errors.Is(err, errPaused) || ctx.Err() != nil {
		return err
	}
	var cerr commitError
	if errors.As(err, &cerr) {
		return cerr.err
	}
	return e.pause(ctx, run, store.EventStagingFailed, "step %s: %s: %v", s.ID, s.Title, err)
}

// commitError marks a failure to save the run, which must end Run (the
// process cannot record anything) rather than pause it.
type commitError struct{ err error }

func (c commitError) Error() string { return c.err.Error() }
func (c commitError) Unwrap() error { return c.err }

func (e *Engine) save(ctx context.Context, run *store.Run, events ...store.Event) error {
	if err := e.commit(ctx, run, events...); err != nil {
		return commitError{err}
	}
	return nil
}

func dataString(run *store.Run, key string) string {
	var v string
	_ = json.Unmarshal(run.Data[key], &v)
	return v
}

func setData(run *store.Run, key string, v any) {
	run.Data[key] = mustJSON(v)
}

// stagingCopy creates the staging copy, records it, and pauses the run so
// the new configuration can be applied to the copy; resuming moves on to
// the policy.
func (e *Engine) stagingCopy(ctx context.Context, edge StagingCDN, run *store.Run, s runbook.Step) error {
	primary := s.Staging.Primary
	if id := dataString(run, keyStagingID); id != "" {
		// Copied before an interruption: the record is the proof.
		return e.stagingReady(ctx, run, s, id, dataString(run, keyStagingDomain))
	}
	ref := StagingCallerRef(*run)
	if err := e.fence(ctx, run.Hostname); err != nil {
		return err
	}
	d, err := edge.CopyToStaging(ctx, primary, ref)
	if err != nil {
		if errors.Is(err, cdn.ErrCallerRefUsed) {
			return e.pause(ctx, run, store.EventStagingLost, "step %s: a staging copy of %s with caller reference %s was created before an interruption, but its id was not recorded: cutover will not create a second one. Find it (aws cloudfront list-distributions), delete it, then resume", s.ID, primary, ref)
		}
		return err
	}
	setData(run, keyStagingID, d.ID)
	setData(run, keyStagingDomain, d.DomainName)
	if err := e.save(ctx, run, evData(store.EventStagingCopied, mustJSON(d), "step %s: %s copied to staging distribution %s (%s)", s.ID, primary, d.ID, d.DomainName)); err != nil {
		return err
	}
	return e.stagingReady(ctx, run, s, d.ID, d.DomainName)
}

// stagingReady completes the copy step and pauses in the same commit:
// the copy step counts as done, so a rollback decided during the pause
// deletes the copy.
func (e *Engine) stagingReady(ctx context.Context, run *store.Run, s runbook.Step, id, domain string) error {
	run.Step++
	run.StepPhase = ""
	run.State = store.StatePaused
	run.Reason = fmt.Sprintf("staging distribution %s (%s) is a copy of %s: apply the new configuration to it, then resume (or roll back to delete it)", id, domain, s.Staging.Primary)
	if err := e.save(ctx, run, evData(store.EventStagingReady, mustJSON(map[string]string{"staging_id": id, "staging_domain": domain}), "%s", run.Reason)); err != nil {
		return err
	}
	return errPaused
}

func trafficOf(st *runbook.Staging) cdn.Traffic {
	if st.Header != "" {
		return cdn.Traffic{HeaderName: st.Header, HeaderValue: st.HeaderValue}
	}
	return cdn.Traffic{Weight: st.Weight, Idle: st.Idle.D(), Max: st.Max.D()}
}

func describeTraffic(t cdn.Traffic) string {
	if t.HeaderName != "" {
		return fmt.Sprintf("requests with %s: %s", t.HeaderName, t.HeaderValue)
	}
	return fmt.Sprintf("%g%% of viewers", t.Weight*100)
}

// stagingPolicy waits for the staging copy to be Deployed (the
// configuration applied during the pause redeploys it), creates the policy
// and attaches it to the primary.
func (e *Engine) stagingPolicy(ctx context.Context, edge StagingCDN, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	st := s.Staging
	stagingID, domain := dataString(run, keyStagingID), dataString(run, keyStagingDomain)
	if stagingID == "" {
		return e.pause(ctx, run, store.EventStagingFailed, "step %s: no staging distribution recorded for this run", s.ID)
	}
	if err := e.waitDeployed(ctx, edge, rb, run, s, stagingID, stagingDeployTimeout); err != nil {
		return err
	}
	t := trafficOf(st)
	policyID := dataString(run, keyStagingPolicy)
	if policyID == "" {
		if err := e.fence(ctx, run.Hostname); err != nil {
			return err
		}
		id, _, err := edge.CreatePolicy(ctx, domain, t)
		if err != nil {
			if errors.Is(err, cdn.ErrStagingInUse) {
				return e.pause(ctx, run, store.EventStagingLost, "step %s: a continuous deployment policy for %s was created before an interruption, but its id was not recorded: cutover will not create a second one. Delete it (aws cloudfront list-continuous-deployment-policies), then resume", s.ID, domain)
			}
			return err
		}
		policyID = id
		setData(run, keyStagingPolicy, id)
		setData(run, keyStagingTraffic, t)
		if err := e.save(ctx, run, ev(store.EventStagingPolicy, "step %s: policy %s sends %s to %s", s.ID, id, describeTraffic(t), stagingID)); err != nil {
			return err
		}
	}
	p, err := edge.Distribution(ctx, st.Primary)
	if err != nil {
		return err
	}
	if p.PolicyID != policyID {
		if err := e.fence(ctx, run.Hostname); err != nil {
			return err
		}
		if _, err := edge.AttachPolicy(ctx, st.Primary, policyID); err != nil {
			return err
		}
	}
	return e.advance(ctx, run, ev(store.EventStagingAttached, "step %s: policy %s attached to %s", s.ID, policyID, st.Primary))
}

// waitDeployed polls id until it is Deployed, under a stored deadline.
func (e *Engine) waitDeployed(ctx context.Context, edge StagingCDN, rb *runbook.Runbook, run *store.Run, s runbook.Step, id string, timeout time.Duration) error {
	key := e.timerKey(*run, s) + "/deployed"
	deadline, ok := run.Timers[key]
	if !ok {
		deadline = e.o.Clock.Now().Add(timeout)
		run.Timers[key] = deadline
		if err := e.save(ctx, run); err != nil {
			return err
		}
	}
	for {
		d, err := edge.Distribution(ctx, id)
		if err == nil && d.Deployed() {
			break
		}
		if !e.o.Clock.Now().Before(deadline) {
			return e.pause(ctx, run, store.EventDeployedTimeout, "step %s: distribution %s not Deployed after %s (last error: %v)", s.ID, id, timeout, err)
		}
		if err := e.sleepUntil(ctx, rb, run, e.o.Clock.Now().Add(e.o.Poll), nil); err != nil {
			return err
		}
	}
	delete(run.Timers, key)
	return nil
}

func (e *Engine) stagingTraffic(ctx context.Context, edge StagingCDN, run *store.Run, s runbook.Step) error {
	policyID := dataString(run, keyStagingPolicy)
	if policyID == "" {
		return e.pause(ctx, run, store.EventStagingFailed, "step %s: no continuous deployment policy recorded for this run", s.ID)
	}
	// Setting the same traffic twice is harmless, so a step interrupted
	// after the call simply calls again.
	t := trafficOf(s.Staging)
	if err := e.fence(ctx, run.Hostname); err != nil {
		return err
	}
	if err := edge.UpdatePolicy(ctx, policyID, t, true); err != nil {
		return err
	}
	setData(run, keyStagingTraffic, t)
	return e.advance(ctx, run, ev(store.EventStagingTraffic, "step %s: policy %s now sends %s to staging", s.ID, policyID, describeTraffic(t)))
}

func (e *Engine) stagingPromote(ctx context.Context, edge StagingCDN, run *store.Run, s runbook.Step) error {
	stagingID := dataString(run, keyStagingID)
	if stagingID == "" {
		return e.pause(ctx, run, store.EventStagingFailed, "step %s: no staging distribution recorded for this run", s.ID)
	}
	// A promotion repeated after an interruption copies the same
	// configuration again: harmless.
	if err := e.fence(ctx, run.Hostname); err != nil {
		return err
	}
	d, err := edge.Promote(ctx, s.Staging.Primary, stagingID)
	if err != nil {
		return err
	}
	setData(run, keyStagingDone, true)
	return e.advance(ctx, run, evData(store.EventStagingPromoted, mustJSON(d), "step %s: %s now serves the configuration of %s", s.ID, s.Staging.Primary, stagingID))
}

// stagingAbort undoes the split. The policy is disabled first and the
// primary given time to deploy that, so every edge sends all traffic to
// the primary before the staging copy is disabled and deleted; Abort then
// detaches and deletes the policy and deletes the copy. Each phase is
// recorded, and Abort tolerates what is already gone.
func (e *Engine) stagingAbort(ctx context.Context, edge StagingCDN, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	primary := s.Staging.Primary
	stagingID, policyID := dataString(run, keyStagingID), dataString(run, keyStagingPolicy)
	if run.StepPhase == "" && policyID != "" {
		var t cdn.Traffic
		if err := json.Unmarshal(run.Data[keyStagingTraffic], &t); err != nil {
			t = cdn.Traffic{Weight: 0}
		}
		if err := e.fence(ctx, run.Hostname); err != nil {
			return err
		}
		if err := edge.UpdatePolicy(ctx, policyID, t, false); err != nil && !errors.Is(err, cdn.ErrNotFound) {
			return err
		}
		run.StepPhase = "policy-disabled"
		if err := e.save(ctx, run, ev(store.EventStagingDisabled, "step %s: policy %s disabled: all traffic returns to %s", s.ID, policyID, primary)); err != nil {
			return err
		}
	}
	if run.StepPhase == "policy-disabled" {
		if err := e.waitDeployed(ctx, edge, rb, run, s, primary, stagingDeployTimeout); err != nil {
			return err
		}
	}
	if run.StepPhase != "aborting" {
		run.StepPhase = "aborting"
		if err := e.save(ctx, run); err != nil {
			return err
		}
	}
	if err := e.fence(ctx, run.Hostname); err != nil {
		return err
	}
	if err := edge.Abort(ctx, primary, stagingID, policyID); err != nil {
		return err
	}
	delete(run.Data, keyStagingPolicy)
	delete(run.Data, keyStagingID)
	delete(run.Data, keyStagingDomain)
	what := "policy detached and deleted"
	if stagingID != "" {
		what += ", staging distribution " + stagingID + " deleted"
	}
	return e.advance(ctx, run, ev(store.EventStagingAborted, "step %s: continuous deployment on %s aborted: %s", s.ID, primary, what))
}
