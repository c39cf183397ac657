package store

// EventType names what an Event records. The values are a contract: they
// are stored in every event log, printed by the CLI and subscribed to by
// dashboards and webhooks, so a constant is never renamed or reused for
// something else. Types that pause a run (the *.failed, *.timeout,
// *.conflict, *.lost, … types) carry the pause reason as their Message.
type EventType string

// The run as a whole.
const (
	// EventRunStarted is emitted when the engine starts a pending run.
	EventRunStarted EventType = "run.started"
	// EventRunResumed is emitted when the engine picks up a run that was
	// already under way (after a restart), or when an operator resume
	// un-pauses a run.
	EventRunResumed EventType = "run.resumed"
	// EventRunPaused is emitted when an operator pause stops a running run.
	EventRunPaused EventType = "run.paused"
	// EventRunPromoted is emitted when an operator promote skips the rest of
	// the current observation or hold.
	EventRunPromoted EventType = "run.promoted"
	// EventRunDone is emitted once, when the last step of the plan has
	// completed and the run is done.
	EventRunDone EventType = "run.done"
	// EventRunRolledBack is emitted once, when the last rollback step has
	// completed and the hostname serves its original records again.
	EventRunRolledBack EventType = "run.rolled-back"
	// EventRequested is appended by the store itself when Request records
	// an operator request, so the log shows when the request arrived and
	// not only when the engine acted on it. Its Message is the action and
	// its Data is {"action": "<action>", "by": "<who>"}: who is the
	// context's actor (WithActor), user@host of the requesting process
	// by default.
	EventRequested EventType = "operator.requested"
	// EventRequestIgnored is emitted when the engine drops an operator
	// request that does not apply in the run's state (pause while paused, …).
	EventRequestIgnored EventType = "request.ignored"
	// EventRollbackStarted is emitted when the run switches to its rollback
	// steps (a gate breach, a watch timeout, a drain policy or an operator).
	EventRollbackStarted EventType = "rollback.started"
	// EventStepSkipped is emitted when an operator skipped the current
	// waiting step (`cutover promote --skip-current-step`).
	EventStepSkipped EventType = "step.skipped"
)

// Manual approval.
const (
	// EventApprovalWaiting is emitted when a run reaches an approval step;
	// its Data holds the deadline (if any), on_timeout and the weights.
	EventApprovalWaiting EventType = "approval.waiting"
	// EventApprovalGranted is emitted when an operator promote approved the
	// current approval step.
	EventApprovalGranted EventType = "approval.granted"
	// EventApprovalTimeout pauses the run (on_timeout pause) or precedes
	// its rollback (on_timeout rollback): nobody approved in time.
	EventApprovalTimeout EventType = "approval.timeout"
)

// DNS changes.
const (
	// EventChangeIntent is emitted just before a change set is submitted;
	// its Data is the change set.
	EventChangeIntent EventType = "change.intent"
	// EventChangeApplied is emitted when the provider accepted a change set;
	// its Data holds change_id, weights and the live records after it, and
	// for the audit trail step_id, zone, and before/after: the record sets
	// the change replaced and created.
	EventChangeApplied EventType = "change.applied"
	// EventChangeReconciled is emitted instead of EventChangeApplied when a
	// resumed run finds its interrupted change already applied; same Data.
	EventChangeReconciled EventType = "change.reconciled"
	// EventChangeInSync is emitted when the submitted change has reached
	// every DNS server (or is assumed to have, after an interruption).
	EventChangeInSync EventType = "change.insync"
	// EventChangeFailed pauses the run: a change could not be computed,
	// applied, or reconciled with what the provider serves.
	EventChangeFailed EventType = "change.failed"
	// EventChangeConflict pauses the run: the records changed under it
	// (someone else edited them).
	EventChangeConflict EventType = "change.conflict"
	// EventBulkIntent is emitted before a bulk run's change step sends its
	// requests: how many hostnames (those not held back; rolling back,
	// all) in how many zones it is for. bulk.applied says how many changed.
	EventBulkIntent EventType = "bulk.intent"
	// EventBulkApplied is emitted when a bulk change step has sent every
	// request: each request's zone, change id and hostnames, and how many
	// hostnames changed, were found changed already, or were held back.
	EventBulkApplied EventType = "bulk.applied"
	// EventBulkHeld is emitted when hostnames of a bulk run are held back
	// (their batch failed) and, pausing the run, when it reaches its end
	// with hostnames held.
	EventBulkHeld EventType = "bulk.held"
	// EventChangeTimeout pauses the run: a change was not INSYNC in time.
	EventChangeTimeout EventType = "change.timeout"
)

// Waits, gates and verification.
const (
	// EventWaitStarted is emitted when a wait, observation or hold starts;
	// its Data holds until, duration and the gates watched.
	EventWaitStarted EventType = "wait.started"
	// EventWaitDone is emitted when a wait, observation or hold completes.
	EventWaitDone EventType = "wait.done"
	// EventGateMeasured is emitted for every gate measurement; its Data is
	// the measurement.
	EventGateMeasured EventType = "gate.measured"
	// EventGateMissing pauses the run: a gate the step needs has no
	// provider configured.
	EventGateMissing EventType = "gate.missing"
	// EventGateFailed pauses the run: a gate whose policy is pause stayed
	// breached for its duration.
	EventGateFailed EventType = "gate.failed"
	// EventGateInconclusive pauses the run: a gate could not decide, so a
	// human does.
	EventGateInconclusive EventType = "gate.inconclusive"
	// EventGateError pauses the run: a gate failed to measure too many
	// times in a row.
	EventGateError EventType = "gate.error"
	// EventGateDryRun is emitted instead of acting when a dry-run gate's
	// verdict would have paused or rolled back the run; Data is the
	// measurement.
	EventGateDryRun EventType = "gate.dry-run"
	// EventVerifyPassed is emitted when verification proved the hostname is
	// served by the expected edge; its Data is the verification result.
	EventVerifyPassed EventType = "verify.passed"
	// EventVerifyFailed is emitted when a verification attempt found
	// something new that is not yet right (it is retried until the
	// timeout); its Data is the verification result.
	EventVerifyFailed EventType = "verify.failed"
	// EventVerifyUnavailable pauses the run: no verifier is configured.
	EventVerifyUnavailable EventType = "verify.unavailable"
	// EventVerifyTimeout pauses the run: verification did not pass in time.
	EventVerifyTimeout EventType = "verify.timeout"
)

// CloudFront aliases and deployments.
const (
	// EventAliasesUpdated is emitted when a distribution's aliases were
	// changed; its Data is the distribution after the change, with the
	// distribution before it under "before".
	EventAliasesUpdated EventType = "aliases.updated"
	// EventAliasesFailed pauses the run: a distribution's aliases could not
	// be changed.
	EventAliasesFailed EventType = "aliases.failed"
	// EventAssociateDone is emitted when AssociateAlias moved an alias from
	// one distribution to another; its Data holds alias, from, target and
	// changes: each distribution the call changed, before and after.
	EventAssociateDone EventType = "associate.done"
	// EventAssociateSkipped is emitted when an AssociateAlias step finds the
	// alias already on its target (an interrupted step, resumed) and makes
	// no call.
	EventAssociateSkipped EventType = "associate.skipped"
	// EventAssociateFailed pauses the run: AssociateAlias failed.
	EventAssociateFailed EventType = "associate.failed"
	// EventWatchStarted is emitted when the run starts watching for an
	// alias that someone else moves.
	EventWatchStarted EventType = "watch.started"
	// EventWatchSeen is emitted when the watched alias arrived on its target.
	EventWatchSeen EventType = "watch.seen"
	// EventWatchFailed pauses the run: the watch could not start.
	EventWatchFailed EventType = "watch.failed"
	// EventDeployed is emitted when the distributions a step waits for are
	// Deployed and the settle time starts.
	EventDeployed EventType = "deployed"
	// EventDeployedFailed pauses the run: the deployment wait could not
	// start.
	EventDeployedFailed EventType = "deployed.failed"
	// EventDeployedTimeout pauses the run: a distribution was not Deployed
	// in time.
	EventDeployedTimeout EventType = "deployed.timeout"
)

// Draining the old edge.
const (
	// EventDrainStarted is emitted when the run starts waiting for the old
	// edge to drain.
	EventDrainStarted EventType = "drain.started"
	// EventDrainWaiting is emitted when a drain gate says the old edge still
	// serves traffic; its Data is the measurement.
	EventDrainWaiting EventType = "drain.waiting"
	// EventDrainOverdue is emitted when the drain took longer than allowed
	// and the policy is to keep waiting.
	EventDrainOverdue EventType = "drain.overdue"
	// EventDrainDone is emitted when the old edge is quiet.
	EventDrainDone EventType = "drain.done"
	// EventDrainTimeout pauses the run: the drain took longer than allowed
	// and the policy is to pause.
	EventDrainTimeout EventType = "drain.timeout"
)

// CloudFront continuous deployment (staging).
const (
	// EventStagingCopied is emitted when the primary distribution was copied
	// to a staging distribution; its Data is the copy.
	EventStagingCopied EventType = "staging.copied"
	// EventStagingReady pauses the run for the operator to configure the
	// staging copy; its Data holds staging_id and staging_domain.
	EventStagingReady EventType = "staging.ready"
	// EventStagingPolicy is emitted when a continuous deployment policy was
	// created.
	EventStagingPolicy EventType = "staging.policy"
	// EventStagingAttached is emitted when the policy was attached to the
	// primary distribution.
	EventStagingAttached EventType = "staging.attached"
	// EventStagingTraffic is emitted when the policy's traffic to staging
	// changed.
	EventStagingTraffic EventType = "staging.traffic"
	// EventStagingPromoted is emitted when the primary took the staging
	// configuration; its Data is the primary after promotion.
	EventStagingPromoted EventType = "staging.promoted"
	// EventStagingDisabled is emitted when the policy was disabled during an
	// abort, so all traffic returns to the primary.
	EventStagingDisabled EventType = "staging.disabled"
	// EventStagingAborted is emitted when continuous deployment was undone.
	EventStagingAborted EventType = "staging.aborted"
	// EventStagingFailed pauses the run: a staging operation failed.
	EventStagingFailed EventType = "staging.failed"
	// EventStagingLost pauses the run: a staging resource was created before
	// an interruption but its id was not recorded.
	EventStagingLost EventType = "staging.lost"
)

// Preflight and decommission checks.
const (
	// EventPreflightPassed is emitted once, right after the run is created,
	// when its preflight checks found no FAIL left unwaived; its Data is the
	// checklist (every check's status and evidence).
	EventPreflightPassed EventType = "preflight.passed"
	// EventPreflightWaived is emitted for each failing preflight check an
	// operator waived by name (--waive); its Message names the check and
	// its evidence, its Data is the check's result.
	EventPreflightWaived EventType = "preflight.waived"
	// EventDecommissionChecked is emitted when a hold ends, with the
	// decommission checklist as its Data; its Message names the items that
	// fail. It does not pause the run: the checklist informs the teardown.
	EventDecommissionChecked EventType = "decommission.checked"
)

// Maintenance mode.
const (
	// EventMaintenanceOn is emitted when a maintenance run is done: the
	// hostname answers with the maintenance page. Its Data holds the run
	// name and the record sets it found (what switching off restores).
	EventMaintenanceOn EventType = "maintenance.on"
	// EventMaintenanceOff is emitted when a maintenance-off run is done:
	// the records from before the maintenance are back, byte for byte. Its
	// Data holds the maintenance run it ended and the restored sets.
	EventMaintenanceOff EventType = "maintenance.off"
	// EventHealthCheckUpdated is emitted when a health check's Inverted
	// flag was set; its Data is {"id", "inverted"}.
	EventHealthCheckUpdated EventType = "healthcheck.updated"
	// EventHealthCheckFailed pauses the run: a health check could not be
	// updated (or no client was configured for it).
	EventHealthCheckFailed EventType = "healthcheck.failed"
)

// Webhooks.
const (
	// EventWebhookPassed is emitted when the webhooks due before a step
	// answered 2xx, or when a rollback webhook was told.
	EventWebhookPassed EventType = "webhook.passed"
	// EventWebhookRejected is emitted when a webhook answered non-2xx, timed
	// out or could not be reached: the run holds and retries (a rollback
	// goes on).
	EventWebhookRejected EventType = "webhook.rejected"
	// EventWebhookFailed pauses the run: a webhook was rejected too many
	// times in a row, or no webhook client is configured.
	EventWebhookFailed EventType = "webhook.failed"
)

// EventTypes lists every EventType, grouped as above.
var EventTypes = []EventType{
	EventRunStarted, EventRunResumed, EventRunPaused, EventRunPromoted,
	EventRunDone, EventRunRolledBack, EventRequested, EventRequestIgnored,
	EventRollbackStarted, EventStepSkipped,

	EventApprovalWaiting, EventApprovalGranted, EventApprovalTimeout,

	EventChangeIntent, EventChangeApplied, EventChangeReconciled,
	EventChangeInSync, EventChangeFailed, EventChangeConflict,
	EventChangeTimeout, EventBulkIntent, EventBulkApplied, EventBulkHeld,

	EventWaitStarted, EventWaitDone, EventGateMeasured, EventGateMissing,
	EventGateFailed, EventGateInconclusive, EventGateError, EventGateDryRun,
	EventVerifyPassed, EventVerifyFailed, EventVerifyUnavailable,
	EventVerifyTimeout,

	EventAliasesUpdated, EventAliasesFailed, EventAssociateDone,
	EventAssociateSkipped, EventAssociateFailed, EventWatchStarted,
	EventWatchSeen, EventWatchFailed, EventDeployed, EventDeployedFailed,
	EventDeployedTimeout,

	EventDrainStarted, EventDrainWaiting, EventDrainOverdue, EventDrainDone,
	EventDrainTimeout,

	EventStagingCopied, EventStagingReady, EventStagingPolicy,
	EventStagingAttached, EventStagingTraffic, EventStagingPromoted,
	EventStagingDisabled, EventStagingAborted, EventStagingFailed,
	EventStagingLost,

	EventPreflightPassed, EventPreflightWaived, EventDecommissionChecked,
	EventMaintenanceOn, EventMaintenanceOff, EventHealthCheckUpdated,
	EventHealthCheckFailed,
	EventWebhookPassed, EventWebhookRejected, EventWebhookFailed,
}

// Known reports whether t is one of EventTypes.
func (t EventType) Known() bool {
	for _, v := range EventTypes {
		if t == v {
			return true
		}
	}
	return false
}
