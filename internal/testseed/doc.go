// Package testseed gives tests that pick random moments (kill points,
// delays) a seed that can be replayed: each test logs the seed it used, and
// CUTOVER_TEST_SEED=<seed> makes the next run use that one instead, so a
// failure seen once can be reproduced exactly.
package testseed
