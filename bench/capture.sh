#!/bin/sh
# Capture + encode of a busy 1920x1080 screen: the tracker's X11 backend and
# encoder (bench/bench-capture) side by side with scrot, on the same private
# Xvfb in the same run, with the ratio. Prints figures; asserts nothing.
#
#   sh bench/capture.sh [BUILD_DIR]      (default: build)
#
# The busy frame is an ImageMagick plasma fractal (photo-like, no flat
# areas) set as the root window's background. Needs Xvfb, scrot and
# ImageMagick (scripts/deps.sh installs them).
set -eu

BUILD=${1:-build}
BENCH=$BUILD/bench/bench-capture
RUNS=${CAPTURE_RUNS:-50}
PROC_RUNS=${CAPTURE_PROCESS_RUNS:-20}
QUALITY=70 # TK_SHOT_QUALITY_DEFAULT

[ -x "$BENCH" ] || { echo "capture.sh: no $BENCH (build first)" >&2; exit 1; }
for tool in Xvfb scrot convert display; do
    command -v $tool >/dev/null || { echo "capture.sh: $tool is missing (scripts/deps.sh)" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/stint-bench-capture.XXXXXX)
XPID=""
cleanup() {
    [ -n "$XPID" ] && kill "$XPID" 2>/dev/null && wait "$XPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# Xvfb picks a free display number and writes it to -displayfd. -noreset
# keeps the root background when the last client leaves.
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$TMP/display" \
    >/dev/null 2>&1 &
XPID=$!
i=0
while [ ! -s "$TMP/display" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TMP/display" ] || { echo "capture.sh: Xvfb did not start" >&2; exit 1; }
DISPLAY=:$(head -n1 "$TMP/display")
export DISPLAY

convert -seed 1 -size 1920x1080 plasma:fractal "$TMP/busy.png"
# display exits once the background is set; its status is not meaningful here.
display -window root "$TMP/busy.png" || true

ns_now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

"$BENCH" --runs "$RUNS" >"$TMP/bench.txt"
get() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/bench.txt"; }
[ "$(get blank)" = "no" ] || { echo "capture.sh: the busy frame came out blank" >&2; exit 1; }

# Whole processes, alternated so that both see the same machine load:
# scrot (connect, capture, JPEG at the same quality, write) and
# bench-capture --once (connect, capture streamed into the JPEG, write).
: >"$TMP/scrot.us"
: >"$TMP/once.us"
i=0
while [ $i -lt "$PROC_RUNS" ]; do
    t0=$(ns_now)
    scrot -o -q $QUALITY "$TMP/scrot.jpg"
    t1=$(ns_now)
    "$BENCH" --once "$TMP/once.jpg"
    t2=$(ns_now)
    echo "$(( (t1 - t0) / 1000 ))" >>"$TMP/scrot.us"
    echo "$(( (t2 - t1) / 1000 ))" >>"$TMP/once.us"
    i=$((i + 1))
done
SCROT_MS=$(median <"$TMP/scrot.us" | awk '{ printf "%.1f", $1 / 1000 }')
ONCE_MS=$(median <"$TMP/once.us" | awk '{ printf "%.1f", $1 / 1000 }')
SCROT_BYTES=$(wc -c <"$TMP/scrot.jpg")

WARM=$(get capture_encode_median_ms)
COLD=$(get cold_capture_encode_median_ms)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "Capture and encode, 1920x1080 busy frame (plasma fractal), JPEG quality $QUALITY"
echo "display $DISPLAY (Xvfb), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "median of $RUNS in-process runs and $PROC_RUNS processes"
echo
row() { printf '%-50s %10s %9s\n' "$1" "$2" "$3"; }
row "what" "median ms" "vs scrot"
row "stint capture (XShm), warm" "$(get capture_median_ms)" ""
row "stint blank check" "$(get blank_check_median_ms)" ""
row "stint JPEG encode (TurboJPEG, 4:2:0)" "$(get encode_jpeg_median_ms)" ""
row "stint capture+check+encode, warm (p90 $(get capture_encode_p90_ms))" "$WARM" "$(ratio "$WARM" "$SCROT_MS")"
row "  of which this process's CPU time" "$(get capture_encode_cpu_median_ms)" ""
row "stint capture+check+encode, cold" "$COLD" "$(ratio "$COLD" "$SCROT_MS")"
SWARM=$(get streamed_capture_encode_median_ms)
SCOLD=$(get streamed_cold_capture_encode_median_ms)
row "streamed (the recorder's default), warm (p90 $(get streamed_capture_encode_p90_ms))" "$SWARM" "$(ratio "$SWARM" "$SCROT_MS")"
row "  of which this process's CPU time" "$(get streamed_capture_encode_cpu_median_ms)" ""
row "streamed, cold" "$SCOLD" "$(ratio "$SCOLD" "$SCROT_MS")"
row "stint whole process (bench-capture --once)" "$ONCE_MS" "$(ratio "$ONCE_MS" "$SCROT_MS")"
row "scrot whole process (-q $QUALITY)" "$SCROT_MS" "1.00"
echo "targets: capture + encode <= 10 ms, and <= 1/3 of scrot's time"
echo
echo "JPEG bytes at quality $QUALITY: stint $(get jpeg_bytes) (streamed $(get streamed_jpeg_bytes)), scrot $SCROT_BYTES"
echo "slower options: WebP encode $(get encode_webp_median_ms) ms ($(get webp_bytes) bytes)," \
    "blur + JPEG $(get blur_encode_jpeg_median_ms) ms ($(get blur_jpeg_bytes) bytes)"
