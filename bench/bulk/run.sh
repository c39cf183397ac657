#!/usr/bin/env bash
# Benchmark a bulk run: N hostnames in ZONES Route 53 zones moved through
# weighted steps by `cutover apply`, against `cutover lab` throttling at the
# legacy 5 requests/s and at the token bucket (burst 50, 10/s). Prints a
# markdown table: per change step, the Route 53 calls made against the
# minimum, the step's time against the rate-limit floor, and the apply
# process's peak memory.
#
#   bench/bulk/run.sh                         # N=1000,10000,50000 ZONES=20, both modes
#   N=200 ZONES=4 bench/bulk/run.sh           # a quick check
#   N=10000 MODES=buckets WEIGHTS=10,100 bench/bulk/run.sh
#   KEEP=1 bench/bulk/run.sh                  # keep seed, plan, state and logs of each run
#
# PROPAGATION (default 1s) is how long the lab keeps a change PENDING; POLL
# (default 500ms) is apply's --poll.
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-1000,10000,50000}
ZONES=${ZONES:-20}
MODES=${MODES:-legacy,buckets}
WEIGHTS=${WEIGHTS:-10,50,100}
PROPAGATION=${PROPAGATION:-1s}
POLL=${POLL:-500ms}

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/cutover" ./cmd/cutover
go build -o "$bin/bulk" ./bench/bulk
args=(-cutover "$bin/cutover" -n "$N" -zones "$ZONES" -modes "$MODES" -weights "$WEIGHTS"
  -propagation "$PROPAGATION" -poll "$POLL")
if [[ -n "${KEEP:-}" ]]; then args+=(-keep); fi
"$bin/bulk" "${args[@]}"
