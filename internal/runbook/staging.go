package runbook

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// StagingSpec configures the staging strategy: CloudFront continuous
// deployment on one distribution (seed 003's November 2022 answer).
type StagingSpec struct {
	// Header and HeaderValue, when set, route only requests carrying that
	// header to staging, before any weight step (SingleHeader).
	Header      string
	HeaderValue string
	// HeaderPause is how long gates are watched during the header phase
	// (default DefaultStagingPause).
	HeaderPause time.Duration
	// Idle and Max are the session stickiness TTLs of the weight steps;
	// both zero for none.
	Idle, Max time.Duration
	// Steps are the staging weights, increasing, each in (0, 0.15].
	Steps []StagingStep
	// DeployTimeout bounds each wait for the primary to deploy (default
	// 1h).
	DeployTimeout time.Duration
}

// StagingStep is one weight of the split: Weight of the viewers go to the
// staging distribution, kept for Pause while Gates are evaluated.
type StagingStep struct {
	Weight float64
	Pause  time.Duration
	// Gates watched during Pause; nil means all of the runbook's gates.
	Gates []string
}

// Continuous deployment limits (reference B3), checked at compile time so
// a plan CloudFront would refuse never starts.
const (
	MaxStagingWeight    = 0.15
	StagingHeaderPrefix = "aws-cf-cd-"
	minStickiness       = 5 * time.Minute
	maxStickiness       = time.Hour
	// DefaultStagingPause is how long each phase is observed when the plan
	// says nothing (plan's staging.pause default).
	DefaultStagingPause = 10 * time.Minute
)

// Staging operations, as the engine dispatches them.
const (
	StagingCopy    = "copy"
	StagingPolicy  = "policy"
	StagingTraffic = "traffic"
	StagingPromote = "promote"
	StagingAbort   = "abort"
)

func (s *StagingSpec) validate() error {
	if s.Header == "" && len(s.Steps) == 0 {
		return errors.New("staging needs a header phase or at least one weight step")
	}
	if s.Header != "" {
		if !strings.HasPrefix(strings.ToLower(s.Header), StagingHeaderPrefix) {
			return fmt.Errorf("staging header %q must start with %s (a CloudFront rule)", s.Header, StagingHeaderPrefix)
		}
		if s.HeaderValue == "" {
			return fmt.Errorf("staging header %s needs a value", s.Header)
		}
	}
	prev := 0.0
	for i, st := range s.Steps {
		if !(st.Weight > 0 && st.Weight <= MaxStagingWeight) {
			return fmt.Errorf("staging step %d: weight %g must be greater than 0 and at most %g: CloudFront sends at most 15%% of viewers to a staging distribution", i+1, st.Weight, MaxStagingWeight)
		}
		if st.Weight <= prev {
			return fmt.Errorf("staging step %d: weight %g must be greater than the step before it (%g)", i+1, st.Weight, prev)
		}
		prev = st.Weight
	}
	if s.Idle != 0 || s.Max != 0 {
		if len(s.Steps) == 0 {
			return errors.New("staging stickiness applies only to weight steps")
		}
		for _, d := range []time.Duration{s.Idle, s.Max} {
			if d < minStickiness || d > maxStickiness {
				return fmt.Errorf("staging stickiness %s must be between %s and %s", d, minStickiness, maxStickiness)
			}
		}
		if s.Idle > s.Max {
			return fmt.Errorf("staging stickiness idle %s exceeds max %s", s.Idle, s.Max)
		}
	}
	return nil
}

// percent renders a staging weight as whole percent for progress output.
func percent(w float64) int64 { return int64(math.Round(w * 100)) }

// compileStaging is CloudFront continuous deployment as a runbook: copy
// the primary to a staging distribution (the run pauses there so the new
// configuration can be applied to the copy), attach a policy that sends
// the header's requests or a weight of viewers to it, watch the gates,
// raise the weight, then promote the staging configuration onto the
// primary. DNS never changes: the hostname keeps pointing at the same
// distribution, which splits traffic itself.
//
// Ids created at run time (the staging distribution, the policy) are not
// known here: the engine keeps them in the run's data. The wait for the
// staging copy to deploy is part of the policy operation for the same
// reason (and because the configuration applied during the pause starts a
// new deployment of the copy).
func compileStaging(b *builder) error {
	if b.obs.From.Kind != TargetCloudFront || b.obs.To.Kind != TargetCloudFront || b.obs.From.ID != b.obs.To.ID {
		return fmt.Errorf("staging changes the configuration of one CloudFront distribution: from and to must be the same distribution, got %s %s and %s %s", b.obs.From.Kind, b.obs.From.ID, b.obs.To.Kind, b.obs.To.ID)
	}
	spec := StagingSpec{Steps: []StagingStep{{Weight: 0.05, Pause: DefaultStagingPause}}}
	if b.spec.Staging != nil {
		spec = *b.spec.Staging
	}
	if err := spec.validate(); err != nil {
		return err
	}
	if spec.HeaderPause == 0 {
		spec.HeaderPause = DefaultStagingPause
	}
	timeout := spec.DeployTimeout
	if timeout == 0 {
		timeout = time.Hour
	}
	primary := b.obs.From.ID
	b.note("no DNS change: %s keeps pointing at %s, which splits traffic with its staging copy itself", b.hostNoDot(), primary)
	deployed := func(title string) {
		b.add(Step{Title: title, Deployed: &Deployed{Distributions: []string{primary}, Timeout: Duration(timeout)}})
	}
	observe := func(title string, d time.Duration, gates []string, w *Weights) {
		if d <= 0 {
			return
		}
		if gates == nil {
			gates = b.gateNames()
		}
		b.add(Step{Title: title, Observe: &Observe{Duration: Duration(d), Gates: gates, Weights: w}})
	}
	weights := func(w float64) *Weights { return &Weights{Old: 100 - percent(w), New: percent(w)} }

	b.add(Step{Title: fmt.Sprintf("copy %s to a new staging distribution, then pause: apply the new configuration to the copy and resume", primary),
		Staging: &Staging{Op: StagingCopy, Primary: primary}})
	steps := spec.Steps
	first := &Staging{Op: StagingPolicy, Primary: primary}
	if spec.Header != "" {
		first.Header, first.HeaderValue = spec.Header, spec.HeaderValue
		b.add(Step{Title: fmt.Sprintf("attach a continuous deployment policy to %s: requests with %s: %s go to staging", primary, spec.Header, spec.HeaderValue), Staging: first})
		deployed(fmt.Sprintf("wait until %s is Deployed: the split starts then", primary))
		observe(fmt.Sprintf("observe requests with %s on staging", spec.Header), spec.HeaderPause, nil, nil)
	} else {
		st := steps[0]
		steps = steps[1:]
		first.Weight, first.Idle, first.Max = st.Weight, Duration(spec.Idle), Duration(spec.Max)
		b.add(Step{Title: fmt.Sprintf("attach a continuous deployment policy to %s: %g%% of viewers go to staging", primary, st.Weight*100), Staging: first})
		deployed(fmt.Sprintf("wait until %s is Deployed: the split starts then", primary))
		observe(fmt.Sprintf("observe at %g%% on staging", st.Weight*100), st.Pause, st.Gates, weights(st.Weight))
	}
	for _, st := range steps {
		b.add(Step{Title: fmt.Sprintf("send %g%% of viewers to staging", st.Weight*100),
			Staging: &Staging{Op: StagingTraffic, Primary: primary, Weight: st.Weight, Idle: Duration(spec.Idle), Max: Duration(spec.Max)}})
		deployed(fmt.Sprintf("wait until %s is Deployed with the new split", primary))
		observe(fmt.Sprintf("observe at %g%% on staging", st.Weight*100), st.Pause, st.Gates, weights(st.Weight))
	}
	b.add(Step{Title: fmt.Sprintf("promote the staging configuration onto %s (the policy is disabled: every viewer gets the new configuration)", primary),
		Staging: &Staging{Op: StagingPromote, Primary: primary}})
	deployed(fmt.Sprintf("wait until %s is Deployed with the promoted configuration", primary))
	// Not finish(): there is no TTL to restore, and after promotion a
	// rollback has nothing to undo, which the hold must not pretend.
	if v := b.spec.Verify; v != nil {
		b.add(Step{Title: "verify the promoted configuration serves the hostname", Verify: &Verify{Expect: "new", Path: v.Path, Samples: v.Samples}})
	}
	if b.spec.Hold > 0 {
		b.add(Step{Title: "hold: watch the promoted configuration (going back to the previous one is a new staging run)", Hold: &Hold{Duration: Duration(b.spec.Hold), Gates: b.gateNames()}})
	}
	return nil
}

// unwindStaging is the rollback of the latest staging operation a run
// completed, s. Before promotion, the split is undone: one abort detaches
// and deletes the policy and deletes the staging copy (the engine finds
// their ids in the run's data). After promotion there is nothing to undo at
// CloudFront: the primary serves the promoted configuration, and going
// back to the previous one is a new staging run with that configuration.
func unwindStaging(s *Staging) []Step {
	if s.Op == StagingPromote || s.Op == StagingAbort {
		return nil
	}
	return []Step{{Title: fmt.Sprintf("abort continuous deployment on %s: detach and delete the policy, delete the staging copy", s.Primary),
		Staging: &Staging{Op: StagingAbort, Primary: s.Primary}}}
}
