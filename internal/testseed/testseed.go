package testseed

import (
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

// Env is the environment variable that fixes the seed.
const Env = "CUTOVER_TEST_SEED"

// TB is the part of testing.TB a seed needs.
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Seed returns the seed from CUTOVER_TEST_SEED when it is set, a fresh one
// from the wall clock otherwise, and logs it with the way to replay it.
func Seed(t TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(Env); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: not an unsigned integer: %v", Env, v, err)
		}
		seed = s
	}
	t.Logf("random seed %d (replay with %s=%d)", seed, Env, seed)
	return seed
}

// Rand returns a generator seeded by Seed; stream tells apart the streams of
// tests that want different sequences from the same seed.
func Rand(t TB, stream uint64) *rand.Rand {
	t.Helper()
	return rand.New(rand.NewPCG(Seed(t), stream))
}
