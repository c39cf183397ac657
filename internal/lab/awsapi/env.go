package awsapi

// Env is what every emulated service is built with: the clock all delays are
// measured on, the shared change history, and the keyring of accepted keys.
type Env struct {
	Clock   Clock
	History *History
	Keys    *Keyring
}

// NewEnv returns an Env on clock with an empty history and the built-in keys.
func NewEnv(clock Clock) Env {
	if clock == nil {
		clock = RealClock{}
	}
	return Env{Clock: clock, History: NewHistory(clock), Keys: NewKeyring(clock)}
}
