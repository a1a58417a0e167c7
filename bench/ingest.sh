#!/bin/sh
# Ingest benchmark: for each client count, a fresh release stintd (its own
# temporary data dir, an admin made offline, --test-clock) on a free
# loopback port, loaded by bench-ingest for BENCH_SECONDS; then the same rows
# straight into SQLite (bench-sqlite-insert) on the same disk (bench/run.sh
# prints the ratio).
#
# usage: sh bench/ingest.sh BUILD_DIR
# environment: CLIENTS ("1 8 32 64"), BENCH_SECONDS (5), REPEAT (1: runs per count),
#   THREADS (stintd --threads; default: stintd's own), TMPDIR (where the data
#   dirs go: put it on the disk you mean to measure), PERF (a file: record
#   stintd with perf, call graphs by DWARF, from 2 s into each run; the
#   last run's profile stays).
set -eu

BUILD=${1:?usage: sh bench/ingest.sh BUILD_DIR}
STINTD=$BUILD/server/stintd
INGEST=$BUILD/bench/bench-ingest
SQLITE=$BUILD/bench/bench-sqlite-insert
CLIENTS=${CLIENTS:-1 8 32 64}
BENCH_SECONDS=${BENCH_SECONDS:-5}
REPEAT=${REPEAT:-1}
PASSWORD="bench admin password"

for f in "$STINTD" "$INGEST" "$SQLITE"; do
    [ -x "$f" ] || { echo "ingest.sh: '$f' is missing; build $BUILD first" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/stint-bench-ingest.XXXXXX")
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Starts stintd on a fresh data dir; sets pid and url.
start_server() {
    data=$work/data-$1
    rm -rf "$data"
    echo "$PASSWORD" | "$STINTD" --data "$data" admin add --email admin@bench.example \
        --name Admin --password-stdin >/dev/null
    # debug: stintd logs its group-commit figures when it stops.
    set -- --data "$data" --listen 127.0.0.1:0 --test-clock --log-level debug
    [ -n "${THREADS:-}" ] && set -- "$@" --threads "$THREADS"
    "$STINTD" "$@" >"$work/out" 2>"$work/err" &
    pid=$!
    url=
    for _ in $(seq 100); do
        url=$(sed -n 's/^listening on //p' "$work/out")
        [ -n "$url" ] && break
        sleep 0.05
    done
    [ -n "$url" ] || { cat "$work/err" >&2; exit 1; }
}

# Stops stintd and prints its group commit figures for the run with $n clients.
stop_server() {
    kill "$pid"
    wait "$pid" || true
    pid=
    num='\([0-9]*\)'
    sed -n "s/.*store: $num writes in $num commits (largest group $num).*/\\1 \\2 \\3/p" \
        "$work/err" |
        awk -v n="$n" '{ printf "group clients=%s writes=%d commits=%d mean=%.1f largest=%d\n",
                         n, $1, $2, $2 ? $1 / $2 : 0, $3 }'
}

echo "# ingest: durable PUT /segments/{id} through a release stintd (segments/s, ms)"
for n in $CLIENTS; do
    for r in $(seq "$REPEAT"); do
        start_server "$n-$r"
        perf_pid=
        if [ -n "${PERF:-}" ]; then
            # The middle of the run only: not the setup's password hashing.
            (sleep 2 && exec perf record --call-graph dwarf,16384 -F 499 -o "$PERF" \
                -p "$pid" -- sleep "$((BENCH_SECONDS - 2))") >/dev/null 2>&1 &
            perf_pid=$!
        fi
        printf 'ingest '
        "$INGEST" --url "$url" --admin-email admin@bench.example --admin-password "$PASSWORD" \
            --clients "$n" --seconds "$BENCH_SECONDS" --pid "$pid"
        [ -n "$perf_pid" ] && wait "$perf_pid" || true
        stop_server
    done
done

echo "# sqlite: the same INSERT straight into SQLite, WAL + synchronous=FULL (rows/s)"
for r in $(seq "$REPEAT"); do
    rm -rf "$work/sqlite"
    "$SQLITE" "$work/sqlite" "$BENCH_SECONDS" | sed 's/^/sqlite /'
done
