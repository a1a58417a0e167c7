#!/bin/sh
# make bench: runs the benchmarks on a release build and prints their
# figures (medians of REPEAT runs) next to the baseline recorded in
# docs/benchmarks.md and the target. Prints figures; asserts nothing.
#
# usage: sh bench/run.sh BUILD_DIR
# environment: REPEAT (3), BENCH_SECONDS (5: per ingest run), CLIENTS ("1 8 32 64"),
#   DIARY_SEGMENTS (1000000), DIARY_REQUESTS (1000), DIARY_DIR (a dir to
#   fill once and reuse: the fill takes a minute or two), SKIP (names of the
#   other bench/*.sh scripts not to run, e.g. "footprint.sh"), TMPDIR (where
#   data dirs go: the disk being measured).
#
# The other bench/*.sh scripts (the tracker's) run after these with
# BUILD_DIR, and print their own figures.
set -eu

BUILD=${1:-build}
REPEAT=${REPEAT:-3}
export BENCH_SECONDS="${BENCH_SECONDS:-5}" CLIENTS="${CLIENTS:-1 8 32 64}" REPEAT
here=$(dirname "$0")
log=$(mktemp "${TMPDIR:-/tmp}/stint-bench.XXXXXX")
trap 'rm -f "$log"' EXIT INT TERM

# The baseline: docs/benchmarks.md (2 vCPU AMD EPYC VM, 2026-11-28). Keep both in step.
baseline() {
    case $1 in
    ingest-1) echo "rate=313 p50_ms=3.05 p99_ms=9.93 writer_cpu_us=2175 group=1.0" ;;
    ingest-8) echo "rate=657 p50_ms=9.29 p99_ms=40.30 writer_cpu_us=1156 group=2.5" ;;
    ingest-32) echo "rate=892 p50_ms=16.98 p99_ms=204.71 writer_cpu_us=646 group=5.8" ;;
    ingest-64) echo "rate=1177 p50_ms=31.80 p99_ms=313.92 writer_cpu_us=606 group=6.8" ;;
    sqlite-1) echo "rate=2050" ;;
    sqlite-32) echo "rate=8500" ;;
    sqlite-1024) echo "rate=12233" ;;
    diary-week) echo "p50_ms=28.09 p99_ms=50.17" ;;
    diary-day) echo "p50_ms=5.62 p99_ms=13.06" ;;
    esac
}

# The value of key in a line of key=value pairs.
field() {
    echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# The median of the values of key over the log lines that match pattern.
median() {
    grep -e "$1" "$log" | tr ' ' '\n' | sed -n "s/^$2=//p" | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}

sh "$here/ingest.sh" "$BUILD" | tee -a "$log"

set -- --stintd "$BUILD/server/stintd" --segments "${DIARY_SEGMENTS:-1000000}" \
    --requests "${DIARY_REQUESTS:-1000}"
[ -n "${DIARY_DIR:-}" ] && set -- "$@" --dir "$DIARY_DIR"
echo "# diary: GET /contracts/{id}/diary of a full week (1008 segments) and of one day"
"$BUILD/bench/bench-diary" "$@" | tee -a "$log"

for script in "$here"/*.sh; do
    name=$(basename "$script")
    case " run.sh ingest.sh ${SKIP:-} " in *" $name "*) continue ;; esac
    sh "$script" "$BUILD" || echo "# $name: failed (see above)"
done

echo
echo "# summary: median of $REPEAT runs | baseline (docs/benchmarks.md) | target"
printf '%-34s %12s %12s %12s\n' "figure" "this run" "baseline" "target"
row() { printf '%-34s %12s %12s %12s\n' "$1" "$2" "$3" "$4"; }
for n in $CLIENTS; do
    b=$(baseline "ingest-$n")
    for k in rate p50_ms p99_ms writer_cpu_us; do
        target=
        [ "$k" = rate ] && target=20000
        row "ingest $n clients $k" "$(median "^ingest clients=$n " $k)" \
            "$(field "$b" $k)" "$target"
    done
    row "ingest $n clients mean group" "$(median "^group clients=$n " mean)" \
        "$(field "$b" group)" ""
done
for batch in 1 32 1024; do
    row "sqlite insert, $batch row(s)/commit" "$(median "^sqlite .* batch=$batch " rate)" \
        "$(field "$(baseline "sqlite-$batch")" rate)" ""
done
# Ratios to SQLite alone: the best median ingest rate over the client counts.
best=$(for n in $CLIENTS; do median "^ingest clients=$n " rate; done | sort -n | tail -1)
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 && b + 0) printf "%.2f", a / b; else print "-" }'
}
row "best ingest / sqlite 1 row/commit" \
    "$(ratio "$best" "$(median "^sqlite .* batch=1 " rate)")" "0.57" ""
row "best ingest / sqlite 32 rows/commit" \
    "$(ratio "$best" "$(median "^sqlite .* batch=32 " rate)")" "0.14" ""
for view in week day; do
    b=$(baseline "diary-$view")
    row "diary $view p50_ms" "$(median "^diary view=$view " p50_ms)" "$(field "$b" p50_ms)" ""
    target=
    [ $view = week ] && target=5
    row "diary $view p99_ms" "$(median "^diary view=$view " p99_ms)" "$(field "$b" p99_ms)" \
        "$target"
done
