#!/bin/sh
# Capture + encode of a busy 1920x1080 screen on Wayland: the tracker's
# Wayland backend (wlr-screencopy over wl_shm) and encoder
# (bench/bench-capture --backend wayland) side by side
# with grim, on the same headless sway in the same run, with the ratio.
# Prints figures; asserts nothing. The X11 twin is capture.sh; Debian's
# grim is built without JPEG, so it writes PNG (its default) and raw PPM.
#
#   sh bench/capture-wayland.sh [BUILD_DIR]      (default: build)
#
# The busy frame is the same plasma fractal as capture.sh's, as sway's
# background (swaybg). Needs sway, swaybg, grim and ImageMagick
# (scripts/deps.sh installs them).
set -eu

BUILD=${1:-build}
BENCH=$BUILD/bench/bench-capture
RUNS=${CAPTURE_RUNS:-50}
PROC_RUNS=${CAPTURE_PROCESS_RUNS:-20}
QUALITY=70 # TK_SHOT_QUALITY_DEFAULT
here=$(dirname "$0")

[ -x "$BENCH" ] || { echo "capture-wayland.sh: no $BENCH (build first)" >&2; exit 1; }
for tool in sway swaybg grim convert; do
    command -v $tool >/dev/null || { echo "capture-wayland.sh: $tool is missing (scripts/deps.sh)" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/stint-bench-capture-wl.XXXXXX)
SWAY_PID=""
cleanup() {
    [ -n "$SWAY_PID" ] && kill "$SWAY_PID" 2>/dev/null && wait "$SWAY_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

convert -seed 1 -size 1920x1080 plasma:fractal "$TMP/busy.png"
chmod 755 "$TMP"
. "$here/sway-headless"
sway_start "$TMP/run" "$TMP/busy.png"

ns_now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# swaybg draws a moment after sway starts (and may draw twice): wait for
# three frames in a row that are not blank.
i=0
ok=0
while [ $ok -lt 3 ]; do
    if "$BENCH" --backend wayland --runs 1 --cold-runs 1 --slow-runs 1 2>/dev/null |
        grep -q '^blank no$'; then ok=$((ok + 1)); else ok=0; fi
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "capture-wayland.sh: the background never showed" >&2; exit 1; }
done

"$BENCH" --backend wayland --runs "$RUNS" >"$TMP/bench.txt"
get() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/bench.txt"; }

# Whole processes, alternated so that all see the same machine load: grim
# (connect, capture, PNG, write: Debian's grim has no JPEG), grim -t ppm
# (connect, capture, raw write: no encoding at all) and bench-capture --once
# (connect, capture streamed into the JPEG, write).
: >"$TMP/grim.us"
: >"$TMP/ppm.us"
: >"$TMP/once.us"
i=0
while [ $i -lt "$PROC_RUNS" ]; do
    t0=$(ns_now)
    grim "$TMP/grim.png"
    t1=$(ns_now)
    "$BENCH" --backend wayland --once "$TMP/once.jpg"
    t2=$(ns_now)
    grim -t ppm "$TMP/grim.ppm"
    t3=$(ns_now)
    echo "$(( (t1 - t0) / 1000 ))" >>"$TMP/grim.us"
    echo "$(( (t2 - t1) / 1000 ))" >>"$TMP/once.us"
    echo "$(( (t3 - t2) / 1000 ))" >>"$TMP/ppm.us"
    i=$((i + 1))
done
GRIM_MS=$(median <"$TMP/grim.us" | awk '{ printf "%.1f", $1 / 1000 }')
PPM_MS=$(median <"$TMP/ppm.us" | awk '{ printf "%.1f", $1 / 1000 }')
ONCE_MS=$(median <"$TMP/once.us" | awk '{ printf "%.1f", $1 / 1000 }')
GRIM_BYTES=$(wc -c <"$TMP/grim.png")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "Capture and encode on Wayland, 1920x1080 busy frame (plasma fractal), JPEG quality $QUALITY"
echo "headless sway $(sway --version | awk '{ print $3 }') (pixman), $(nproc) cores," \
    "load $(cut -d' ' -f1-3 /proc/loadavg), median of $RUNS in-process runs and $PROC_RUNS processes"
echo
row() { printf '%-50s %10s %9s\n' "$1" "$2" "$3"; }
row "what" "median ms" "vs grim"
row "stint capture (wlr-screencopy, wl_shm), warm" "$(get capture_median_ms)" ""
WARM=$(get capture_encode_median_ms)
COLD=$(get cold_capture_encode_median_ms)
SWARM=$(get streamed_capture_encode_median_ms)
row "stint capture+check+encode, warm (p90 $(get capture_encode_p90_ms))" "$WARM" "$(ratio "$WARM" "$GRIM_MS")"
row "  of which this process's CPU time" "$(get capture_encode_cpu_median_ms)" ""
row "stint capture+check+encode, cold" "$COLD" "$(ratio "$COLD" "$GRIM_MS")"
row "streamed (the recorder's default), warm" "$SWARM" "$(ratio "$SWARM" "$GRIM_MS")"
row "  of which this process's CPU time" "$(get streamed_capture_encode_cpu_median_ms)" ""
row "stint whole process (bench-capture --once)" "$ONCE_MS" "$(ratio "$ONCE_MS" "$GRIM_MS")"
row "grim whole process (PNG, its default)" "$GRIM_MS" "1.00"
row "grim -t ppm whole process (no encoding)" "$PPM_MS" "$(ratio "$PPM_MS" "$GRIM_MS")"
echo
echo "bytes: stint JPEG at quality $QUALITY $(get jpeg_bytes) (streamed $(get streamed_jpeg_bytes)), grim PNG $GRIM_BYTES"
