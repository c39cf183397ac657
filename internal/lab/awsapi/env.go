package awsapi

import "github.com/cutover/cutover/internal/clock"

// Env is what every emulated service is built with: the clock all delays are
// measured on, the shared change history, the log of every call, and the
// keyring of accepted keys.
// Every delay the lab emulates (change propagation, distribution deployment,
// certificate validation) is computed from Clock lazily, on read, so a test
// can move a fake clock instead of sleeping.
type Env struct {
	Clock   clock.Clock
	History *History
	Calls   *CallLog
	Keys    *Keyring
}

// NewEnv returns an Env on clk (the wall clock when nil) with an empty
// history and call log and the built-in keys.
func NewEnv(clk clock.Clock) Env {
	if clk == nil {
		clk = clock.Real{}
	}
	return Env{Clock: clk, History: NewHistory(clk), Calls: NewCallLog(clk), Keys: NewKeyring(clk)}
}
