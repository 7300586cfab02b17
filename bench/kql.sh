#!/usr/bin/env bash
# Times "entrawatch query" on the guide's queries against "entrawatch scan"
# with the equivalent built-in detection alone, and a summarize, over one
# million generated sign-ins; prints markdown (docs/performance.md, "KQL
# queries").
#
#   bench/kql.sh                  # 1M sign-ins, 3 interleaved runs each
#   N=200000 RUNS=5 bench/kql.sh
#
# Environment:
#   N     sign-in records to generate (default 1000000, about 4.6 GB)
#   SEED  generator seed (default 1)
#   RUNS  interleaved runs of each command; medians are reported (default 3)
#   DATA  where the generated file and the binaries go (default
#         ${TMPDIR:-/tmp}/entrawatch-kql-bench; kept between runs, never
#         in the repository)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
N=${N:-1000000}
SEED=${SEED:-1}
RUNS=${RUNS:-3}
DATA=${DATA:-${TMPDIR:-/tmp}/entrawatch-kql-bench}
BIN=$DATA/bin
mkdir -p "$BIN"

log() { echo "kql.sh: $*" >&2; }

log "building"
(cd "$root" && go build -o "$BIN/entrawatch" ./cmd/entrawatch)
# The generator is in the bench module; build it against a copy of its
# go.mod so that resolving its requirements never rewrites the real one.
cp "$here/go.mod" "$BIN/gen.mod"
cp "$here/go.sum" "$BIN/gen.sum"
(cd "$here" && go build -mod=mod -modfile="$BIN/gen.mod" -o "$BIN/gen" ./cmd/gen)

file=$DATA/signins-$N-s$SEED.jsonl
if [ ! -s "$file" ]; then
	log "generating $file"
	"$BIN/gen" -n "$N" -seed "$SEED" -o "$file" 2>"$file.counts"
fi
cat "$file" >/dev/null # warm the page cache

ew=$BIN/entrawatch
all=$("$ew" rules list | awk 'NR > 1 {print $1}')
only() { # the --disable list that leaves detection $1 alone
	echo "$all" | grep -vx "$1" | paste -sd, -
}

# name|built-in|query, from the guide (ms-article-queries.kql), verbatim
# but on one line; and a summarize with no built-in equivalent.
cases=(
	'1. registration without MFA|device-registration-without-mfa|SigninLogs | where ResourceDisplayName == "Device Registration Service" | where ConditionalAccessStatus == "success" | where AuthenticationRequirement <> "multiFactorAuthentication"'
	'3. non-compliant devices|noncompliant-device-signin|SigninLogs | where DeviceDetail.isCompliant == false | where ConditionalAccessStatus == "success"'
	'4. unknown devices|unknown-device-signin|SigninLogs | where isempty(DeviceDetail.deviceId) | where AuthenticationRequirement == "singleFactorAuthentication" | where ResultType == "0" | where NetworkLocationDetails == "[]"'
	'6. BitLocker key read|bitlocker-key-read|AuditLogs | where OperationName == "Read BitLocker key"'
	'summarize by hour and user|noncompliant-device-signin|SigninLogs | summarize count() by bin(TimeGenerated, 1h), UserPrincipalName'
)

timed() { # out-file command...: appends "wall cpu maxrss-KB" to out-file
	local out=$1
	shift
	/usr/bin/time -v -o "$DATA/time.txt" "$@" >"$DATA/stdout.txt"
	awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
		/User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident set size/ { m = $2 }
		END { print w, u + s, m }' "$DATA/time.txt" >>"$out"
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "## \`entrawatch query\` against \`entrawatch scan\`, $(grep -m1 -o 'wrote [0-9]* records, [0-9]* bytes' "$file.counts" | sed 's/wrote //')"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version | cut -d' ' -f3)"
echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $RUNS runs of each command, interleaved; \`--output json\` to /dev/null; medians (and best wall); peak RSS is the largest"
echo
echo "| query | built-in run alone by scan | scan wall s (median / best) | query wall s (median / best) | scan ÷ query, wall (median / best) | scan CPU s | query CPU s | scan ÷ query, CPU | scan peak RSS MB | query peak RSS MB | alerts | rows |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in "${cases[@]}"; do
	IFS='|' read -r name det query <<<"$c"
	rm -f "$DATA/scan.txt" "$DATA/query.txt"
	alerts=0 rows=0
	for i in $(seq "$RUNS"); do
		log "$name: run $i/$RUNS (load $(cut -d' ' -f1 /proc/loadavg))"
		timed "$DATA/scan.txt" "$ew" scan --disable "$(only "$det")" --output json "$file"
		alerts=$(wc -l <"$DATA/stdout.txt")
		timed "$DATA/query.txt" "$ew" query --output json "$query" "$file"
		rows=$(wc -l <"$DATA/stdout.txt")
	done
	sw=$(cut -d' ' -f1 "$DATA/scan.txt" | median)
	qw=$(cut -d' ' -f1 "$DATA/query.txt" | median)
	sb=$(cut -d' ' -f1 "$DATA/scan.txt" | sort -n | head -1)
	qb=$(cut -d' ' -f1 "$DATA/query.txt" | sort -n | head -1)
	sc=$(cut -d' ' -f2 "$DATA/scan.txt" | median)
	qc=$(cut -d' ' -f2 "$DATA/query.txt" | median)
	sm=$(cut -d' ' -f3 "$DATA/scan.txt" | sort -n | tail -1)
	qm=$(cut -d' ' -f3 "$DATA/query.txt" | sort -n | tail -1)
	awk -v n="$name" -v d="$det" -v sw="$sw" -v qw="$qw" -v sb="$sb" -v qb="$qb" -v sc="$sc" -v qc="$qc" -v sm="$sm" -v qm="$qm" -v a="$alerts" -v r="$rows" \
		'BEGIN {printf "| %s | `%s` | %.2f / %.2f | %.2f / %.2f | **%.2f** / %.2f | %.2f | %.2f | **%.2f** | %.0f | %.0f | %d | %d |\n", n, d, sw, sb, qw, qb, sw / qw, sb / qb, sc, qc, sc / qc, sm / 1024, qm / 1024, a, r}'
done
echo
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
