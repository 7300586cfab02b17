#!/usr/bin/env bash
# Reproduces the figures of docs/performance.md and prints them as markdown.
#
#   bench/run.sh                 # everything (about 5 minutes on 2 cores)
#   SIZE=200MB RUNS=3 bench/run.sh
#   GO_BENCH=0 PROFILE=0 bench/run.sh
#
# Environment:
#   SIZE      size of the end-to-end sign-in file (default 1GB)
#   CMP_N     records in the harness file (default 20000, ~93 MB)
#   RUNS      end-to-end repetitions per configuration; medians are reported (default 5)
#   CMP_RUNS  timed runs per harness contender (default 5)
#   SEED      generator seed (default 1)
#   LA_SIZE   size of the Log Analytics-shaped file scanned on 1 core (default 200MB)
#   GO_BENCH  1 to also run the main module's go test -bench benchmarks (default 1)
#   PROFILE   1 to write CPU profiles to $DATA/prof (default 1)
#   DATA      where generated files go (default bench/bench-data, git-ignored)
#   ENTRAWATCH_CORPUS  when set, adds sigma-go on SigmaHQ's Azure sign-in rules
#             to the harness, and the SigmaHQ run: every SigmaHQ Azure
#             sign-in and audit rule in entrawatch, sigma-go and
#             go-sigma-rule-engine (compare -mode sigmahq)
#   AUDIT     thousandths of audit records in the SigmaHQ run's file (default 100)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$here"

SIZE=${SIZE:-1GB}
CMP_N=${CMP_N:-20000}
RUNS=${RUNS:-5}
CMP_RUNS=${CMP_RUNS:-5}
SEED=${SEED:-1}
LA_SIZE=${LA_SIZE:-200MB}
AUDIT=${AUDIT:-100}
GO_BENCH=${GO_BENCH:-1}
PROFILE=${PROFILE:-1}
DATA=${DATA:-$here/bench-data}
BIN=$DATA/bin
mkdir -p "$DATA" "$BIN"

log() { echo "run.sh: $*" >&2; }

log "building"
go build -mod=mod -o "$BIN/" ./cmd/gen ./cmd/compare ./cmd/baseline ./cmd/scanprof
(cd "$root" && go build -o "$BIN/entrawatch" ./cmd/entrawatch)

small=$DATA/signins-${CMP_N}-s$SEED.jsonl
big=$DATA/signins-$SIZE-s$SEED.jsonl
if [ ! -s "$small" ]; then
	log "generating $small"
	"$BIN/gen" -n "$CMP_N" -seed "$SEED" -o "$small" 2>"$small.counts"
fi
if [ ! -s "$big" ]; then
	log "generating $big"
	"$BIN/gen" -size "$SIZE" -seed "$SEED" -o "$big" 2>"$big.counts"
fi

la=$DATA/signins-la-$LA_SIZE-s$SEED.jsonl
if [ ! -s "$la" ]; then
	log "generating $la"
	"$BIN/gen" -size "$LA_SIZE" -seed "$SEED" -shape la -o "$la" 2>"$la.counts"
fi

hq=""
if [ -n "${ENTRAWATCH_CORPUS:-}" ]; then
	hq=$DATA/signins-audit$AUDIT-$CMP_N-s$SEED.jsonl
	if [ ! -s "$hq" ]; then
		log "generating $hq"
		"$BIN/gen" -n "$CMP_N" -seed "$SEED" -audit "$AUDIT" -o "$hq" 2>"$hq.counts"
	fi
fi

# The alerts entrawatch must raise: one per trigger record.
expected=$(grep 'trigger:' "$big.counts" | awk '{s+=$2} END {print s}')
got=$("$BIN/entrawatch" scan --summary --output json "$big" 2>&1 >/dev/null | sed -n 's/^alerts by rule (\([0-9]*\) in all):$/\1/p')
if [ "$got" != "$expected" ]; then
	log "WARNING: entrawatch raised $got alerts on $big, the generator planted $expected"
fi

echo "# entrawatch performance run"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "- commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(go version | cut -d' ' -f3)"
echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- harness file: $(basename "$small"): $(head -1 "$small.counts" | sed 's/^wrote //')"
echo "- end-to-end file: $(basename "$big"): $(head -1 "$big.counts" | sed 's/^wrote //'); entrawatch raised $got alerts, the generator planted $expected"
echo "- Log Analytics-shaped file: $(basename "$la"): $(head -1 "$la.counts" | sed 's/^wrote //')"
if [ -n "$hq" ]; then
	echo "- SigmaHQ run's file: $(basename "$hq"): $(head -1 "$hq.counts" | sed 's/^wrote //'), $AUDIT‰ directory audit records"
fi
echo

profargs=()
if [ "$PROFILE" = 1 ]; then
	profargs=(-cpuprofile "$DATA/prof")
fi

for cores in 1 2; do
	log "harness, $cores core(s)"
	echo "## Detection step on the same events, $cores core(s) (harness, median of $CMP_RUNS runs)"
	echo
	"$BIN/compare" -in "$small" -cores "$cores" -runs "$CMP_RUNS" -rules "$here/rules" \
		$([ "$cores" = 1 ] && [ "$PROFILE" = 1 ] && echo "${profargs[@]}")
	echo
done

if [ -n "$hq" ]; then
	log "harness, SigmaHQ's Azure sign-in and audit rules, 1 core"
	echo "## SigmaHQ's Azure sign-in and audit rules in every engine, 1 core (harness -mode sigmahq, median of $CMP_RUNS runs)"
	echo
	"$BIN/compare" -mode sigmahq -in "$hq" -cores 1 -runs "$CMP_RUNS" -rules "$here/rules" \
		$([ "$PROFILE" = 1 ] && echo -cpuprofile "$DATA/prof/sigmahq")
	echo
fi

# End to end: entrawatch scan versus a bare fastjson parse of every record
# of the same file, interleaved, RUNS times each. /usr/bin/time gives wall
# time, CPU time (user + system) and peak RSS.
cat "$big" >/dev/null # warm the page cache
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
minimum() { sort -n | head -1; }
records=$(grep -m1 -o 'wrote [0-9]*' "$big.counts" | cut -d' ' -f2)
bytes=$(stat -c %s "$big")
declare -A wall wmin cpu rss
timed() { # cores what command...
	local cores=$1 what=$2
	shift 2
	GOMAXPROCS=$cores /usr/bin/time -f "%e %U %S %M" -o "$DATA/time.txt" "$@" >/dev/null
	awk '{print $1, $2+$3, $4}' "$DATA/time.txt" >>"$DATA/e2e-$what-$cores.txt"
}
for cores in 1 2; do
	for what in scan fastjson lines lascan lafastjson; do
		: >"$DATA/e2e-$what-$cores.txt"
	done
	for i in $(seq "$RUNS"); do
		log "end to end, $cores core(s), run $i/$RUNS (load $(cut -d' ' -f1 /proc/loadavg))"
		timed "$cores" scan "$BIN/entrawatch" scan --output json "$big"
		timed "$cores" fastjson "$BIN/baseline" -mode fastjson "$big"
		if [ "$cores" = 1 ]; then
			timed 1 lines "$BIN/baseline" -mode lines "$big"
			timed 1 lascan "$BIN/entrawatch" scan --output json "$la"
			timed 1 lafastjson "$BIN/baseline" -mode fastjson "$la"
		fi
	done
	for what in scan fastjson lines lascan lafastjson; do
		f=$DATA/e2e-$what-$cores.txt
		[ -s "$f" ] || continue
		wall[$what-$cores]=$(cut -d' ' -f1 "$f" | median)
		wmin[$what-$cores]=$(cut -d' ' -f1 "$f" | minimum)
		cpu[$what-$cores]=$(cut -d' ' -f2 "$f" | median)
		rss[$what-$cores]=$(cut -d' ' -f3 "$f" | sort -n | tail -1)
	done
done
if [ "$PROFILE" = 1 ]; then
	log "profiling the scan pipeline"
	GOMAXPROCS=1 "$BIN/scanprof" -cpuprofile "$DATA/prof/scan-1core.prof" "$big" >/dev/null
	GOMAXPROCS=2 "$BIN/scanprof" -cpuprofile "$DATA/prof/scan-2cores.prof" "$big" >/dev/null
fi

echo "## End to end: \`entrawatch scan --output json\` on $(basename "$big") ($RUNS runs each, interleaved)"
echo
echo "| run | GOMAXPROCS | wall s (median) | wall s (best) | CPU s (median) | records/s (median wall) | MB/s (median wall) | MB per CPU-s | peak RSS (MB) | scan ÷ this, wall | scan ÷ this, best wall | scan ÷ this, CPU |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
row() { # what cores label
	local w=${wall[$1-$2]:-}
	[ -n "$w" ] || return 0
	awk -v label="$3" -v c="$2" -v w="$w" -v wm="${wmin[$1-$2]}" -v u="${cpu[$1-$2]}" -v r="${rss[$1-$2]}" -v n="$records" -v b="$bytes" \
		-v sw="${wall[scan-$2]}" -v swm="${wmin[scan-$2]}" -v su="${cpu[scan-$2]}" \
		'BEGIN {printf "| %s | %d | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | %.1f | %.2f | %.2f | %.2f |\n", label, c, w, wm, u, n/w, b/1e6/w, b/1e6/u, r/1024, w/sw, wm/swm, u/su}'
}
for cores in 1 2; do
	row scan "$cores" "entrawatch scan"
	row fastjson "$cores" "bare fastjson parse of every record"
	row lines "$cores" "bare line scan (bufio)"
done
if [ -n "${wall[lascan-1]:-}" ]; then
	la_records=$(grep -m1 -o 'wrote [0-9]*' "$la.counts" | cut -d' ' -f2)
	la_bytes=$(stat -c %s "$la")
	awk -v w="${wall[lascan-1]}" -v wm="${wmin[lascan-1]}" -v u="${cpu[lascan-1]}" -v r="${rss[lascan-1]}" -v n="$la_records" -v b="$la_bytes" \
		'BEGIN {printf "| entrawatch scan, Log Analytics rows (%s) | 1 | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | %.1f | 1.00 | 1.00 | 1.00 |\n", "'"$(basename "$la")"'", w, wm, u, n/w, b/1e6/w, b/1e6/u, r/1024}'
	awk -v w="${wall[lafastjson-1]}" -v wm="${wmin[lafastjson-1]}" -v u="${cpu[lafastjson-1]}" -v r="${rss[lafastjson-1]}" -v n="$la_records" -v b="$la_bytes" \
		-v sw="${wall[lascan-1]}" -v swm="${wmin[lascan-1]}" -v su="${cpu[lascan-1]}" \
		'BEGIN {printf "| bare fastjson parse, Log Analytics rows | 1 | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | %.1f | %.2f | %.2f | %.2f |\n", w, wm, u, n/w, b/1e6/w, b/1e6/u, r/1024, w/sw, wm/swm, u/su}'
fi
echo
echo "\"scan ÷ this\" is entrawatch's throughput over the other run's (this run's time over scan's time)."
echo
echo "Acceptance (end to end):"
awk -v s1="${wall[scan-1]}" -v f1="${wall[fastjson-1]}" -v s2="${wall[scan-2]}" -v f2="${wall[fastjson-2]}" \
	-v sm1="${wmin[scan-1]}" -v fm1="${wmin[fastjson-1]}" -v sm2="${wmin[scan-2]}" -v fm2="${wmin[fastjson-2]}" \
	-v su1="${cpu[scan-1]}" -v fu1="${cpu[fastjson-1]}" \
	-v r1="${rss[scan-1]}" -v r2="${rss[scan-2]}" 'BEGIN {
	printf "- 1 core: scan ÷ bare fastjson = %.2f by median wall, %.2f by best wall, %.2f by CPU time (target ≥ 0.50)\n", f1/s1, fm1/sm1, fu1/su1
	printf "- 2 cores: scan ÷ bare fastjson = %.2f by median wall, %.2f by best wall (target ≥ 0.50)\n", f2/s2, fm2/sm2
	m = (r1 > r2) ? r1 : r2
	printf "- peak RSS of entrawatch scan: %.1f MB (target < 200 MB: %s)\n", m/1024, (m/1024 < 200) ? "met" : "NOT met"
}'
echo "- detection step against sigma-go on 1 core: the \"entrawatch ÷ this\" column of the 1-core harness table, sigma-go row (target ≥ 10×)"
if [ -n "$hq" ]; then
	echo "- SigmaHQ's Azure rules on 1 core: the SigmaHQ table's sigma-go row, \"entrawatch ÷ this\" (target ≥ 10×), and its entrawatch row, \"this ÷ fastjson\" (target ≥ 0.50)"
fi
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

if [ "$GO_BENCH" = 1 ]; then
	log "go test -bench in the main module"
	echo "## go test -bench (main module, GOMAXPROCS=1)"
	echo
	echo '```'
	(cd "$root" && GOMAXPROCS=1 go test -run '^$' -bench 'BenchmarkReader|BenchmarkSplit|BenchmarkDetectStep|BenchmarkParseOnly' -benchtime 2s -count 1 \
		./internal/format/ ./internal/jsonstream/ ./internal/detect/ 2>&1 | grep -E '^(Benchmark|ok|FAIL|pkg)')
	echo '```'
fi
