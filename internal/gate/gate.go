// Package gate measures whether a step may proceed.
//
// A gate returns a Measurement, never a Go error: a provider fault is a
// measurement in phase Error, and what to do about it (retry, count toward a
// consecutive-error limit, pause for a human) is the engine's decision. The
// providers live in sub-packages (cloudwatch, probe); each implements Gate.
package gate

import (
	"context"
	"time"
)

// Phase is the three-way (plus error) outcome of one measurement.
type Phase string

const (
	// Successful: the condition holds.
	Successful Phase = "Successful"
	// Failed: the condition is breached.
	Failed Phase = "Failed"
	// Inconclusive: the data cannot decide (no data points, partial data).
	// It is never a pass: the engine tolerates the gate's
	// inconclusive_limit of them in a row, then pauses for a human.
	Inconclusive Phase = "Inconclusive"
	// Error: the measurement could not be taken (provider unreachable).
	Error Phase = "Error"
)

// Measurement is one evaluation of a gate.
type Measurement struct {
	Gate   string    `json:"gate"`
	Phase  Phase     `json:"phase"`
	Value  float64   `json:"value"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// Gate is a check evaluated at a moment.
type Gate interface {
	Measure(ctx context.Context, now time.Time) Measurement
}

// Func adapts a function to Gate.
type Func func(ctx context.Context, now time.Time) Measurement

// Measure calls f.
func (f Func) Measure(ctx context.Context, now time.Time) Measurement { return f(ctx, now) }

// Compare reports whether value breaches threshold under comparison, where
// comparison names what counts as a breach: ">", ">=", "<", "<=".
func Compare(value float64, comparison string, threshold float64) (breach bool, ok bool) {
	switch comparison {
	case ">":
		return value > threshold, true
	case ">=":
		return value >= threshold, true
	case "<":
		return value < threshold, true
	case "<=":
		return value <= threshold, true
	}
	return false, false
}
