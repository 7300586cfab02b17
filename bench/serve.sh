#!/usr/bin/env bash
# Measures "entrawatch serve": ingestion throughput (internal/serve
# benchmarks) and the latency from a sign-in appearing at the Graph
# endpoint to its alert in the outbox and at a webhook (internal/cli
# TestServeLatency). Prints what docs/performance.md ("entrawatch serve:
# ingestion and latency") quotes; about five minutes on 2 cores.
#
#   bench/serve.sh
#   COUNT=5 SAMPLES=50 bench/serve.sh
#
# Environment:
#   COUNT       runs of each benchmark (default 3)
#   CHUNKS      1000-record chunks per BenchmarkIngest run (default 100)
#   SAMPLES     latency samples per run (default 30)
#   BACKGROUND  benign sign-ins every poll reads again (default 1000)
#   TMPDIR      where the benchmarks' stores go (their disk is measured)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
COUNT=${COUNT:-3}
CHUNKS=${CHUNKS:-100}
SAMPLES=${SAMPLES:-30}
BACKGROUND=${BACKGROUND:-1000}

echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version | cut -d' ' -f3), TMPDIR on $(df -P "${TMPDIR:-/tmp}" | awk 'NR == 2 {print $1}')"
echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo '```'
go test -count="$COUNT" -run '^$' -bench 'Ingest$' -benchtime "${CHUNKS}x" ./internal/serve | grep -E '^Benchmark'
go test -count="$COUNT" -run '^$' -bench 'IngestGraph$' -benchtime 1x ./internal/serve | grep -E '^Benchmark'
echo '```'
echo
for age in 0s 5s; do
	echo "record appears ${age} after its createdDateTime:"
	echo
	ENTRAWATCH_BENCH=1 ENTRAWATCH_BENCH_SAMPLES=$SAMPLES ENTRAWATCH_BENCH_BACKGROUND=$BACKGROUND ENTRAWATCH_BENCH_AGE=$age \
		go test -count=1 -run '^TestServeLatency$' -v ./internal/cli | sed -n 's/^ *serve_bench_test.go:[0-9]*: //p'
	echo
done
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
