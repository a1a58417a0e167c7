#!/bin/sh
# The Windows tray app beside the Linux tracker, in one run on this machine
# (under Wine 8, so the Windows figures are Wine's, not a real Windows'):
#
# 1. Footprint while tracking with steady input (10 events a second from
#    xdotool) for SECONDS: stint-tracker.exe's Wine process (its resident
#    memory, which holds Wine's own mappings too, and CPU; bench/wine_tray.py)
#    and then the Linux recorder (`stint track`, bench/footprint.sh).
# 2. Capture + encode of one busy 1920x1080 frame (plasma fractal as the X
#    root window's background), median of RUNS warm runs, the recorder's
#    default path (capture streamed into the JPEG, blank check on the way):
#    win32-probe.exe's `stream` (GDI BitBlt under Wine, outside the virtual
#    desktop, so Wine's screen is the X root) and Linux bench-capture
#    (XShm), on the same Xvfb, with the ratio.
#
# Prints figures; asserts nothing.
#
#   sh bench/wine.sh [LINUX_BUILD] [WIN_BUILD] [SECONDS]   (defaults: build, build-win, 120)
#
# LINUX_BUILD needs server/stintd, cli/stint, cli/stint-recorder and
# bench/bench-capture; WIN_BUILD windows/tray/stint-tracker.exe and
# tests/windows/win32-probe.exe (make windows).
set -eu
cd "$(dirname "$0")/.."

LINUX_BUILD=${1:-build}
WIN_BUILD=${2:-build-win}
SECONDS_RUN=${3:-120}
RUNS=${CAPTURE_RUNS:-30}
PROBE=$WIN_BUILD/tests/windows/win32-probe.exe
BENCH=$LINUX_BUILD/bench/bench-capture
for f in "$LINUX_BUILD/server/stintd" "$LINUX_BUILD/cli/stint" "$BENCH" \
    "$WIN_BUILD/windows/tray/stint-tracker.exe" "$PROBE"; do
    [ -e "$f" ] || { echo "wine.sh: no $f (build first)" >&2; exit 1; }
done
for tool in wine wineserver Xvfb xdotool convert display python3; do
    command -v $tool >/dev/null || { echo "wine.sh: $tool is missing (scripts/deps.sh)" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/stint-bench-wine.XXXXXX)
XPID=""
cleanup() {
    [ -n "$XPID" ] && kill "$XPID" 2>/dev/null && wait "$XPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

echo "== footprint while tracking, ${SECONDS_RUN} s of input at 10 events/s"
python3 bench/wine_tray.py "$WIN_BUILD" "$LINUX_BUILD" "$SECONDS_RUN" >"$TMP/tray.txt"
sh bench/footprint.sh "$LINUX_BUILD" "$SECONDS_RUN" >"$TMP/linux.txt" 2>&1 || true
get() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/tray.txt"; }
L_RSS=$(sed -n 's/.*recorder RSS median \([0-9.]*\) MB.*/\1/p' "$TMP/linux.txt" | head -n1)
L_CPU=$(sed -n 's/.*CPU \([0-9.]*\)% of one core.*/\1/p' "$TMP/linux.txt" | head -n1)
T_RSS=$(awk -v kb="$(get tray_rss_median_kb)" 'BEGIN { printf "%.1f", kb / 1024 }')
T_P95=$(awk -v kb="$(get tray_rss_p95_kb)" 'BEGIN { printf "%.1f", kb / 1024 }')
T_PEAK=$(awk -v kb="$(get tray_rss_peak_kb)" 'BEGIN { printf "%.1f", kb / 1024 }')
T_CPU=$(get tray_cpu_percent)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
row() { printf '%-58s %12s %12s\n' "$1" "$2" "$3"; }
row "what" "RSS median" "CPU % core"
row "stint-tracker.exe under Wine 8 (p95 $T_P95, peak $T_PEAK MB)" "$T_RSS MB" "$T_CPU"
row "Linux stint track (stint-recorder)" "${L_RSS:-?} MB" "${L_CPU:-?}"
row "ratio Wine tray / Linux recorder" "$(ratio "$T_RSS" "${L_RSS:-0}")" "$(ratio "$T_CPU" "${L_CPU:-0}")"
echo "(the Linux run's own report:)"
sed 's/^/  /' "$TMP/linux.txt"

echo
echo "== capture + encode, 1920x1080 busy frame, JPEG at the default quality"
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$TMP/display" \
    >/dev/null 2>&1 &
XPID=$!
i=0
while [ ! -s "$TMP/display" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TMP/display" ] || { echo "wine.sh: Xvfb did not start" >&2; exit 1; }
DISPLAY=:$(head -n1 "$TMP/display")
export DISPLAY
convert -seed 1 -size 1920x1080 plasma:fractal "$TMP/busy.png"
display -window root "$TMP/busy.png" || true # exits once the background is set

export WINEPREFIX="$PWD/$WIN_BUILD/wine-prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
[ -f "$WINEPREFIX/.stint-ready" ] || { wineboot -i >/dev/null 2>&1; wineserver -w; }
wineserver -p
wine "$PROBE" stream "$RUNS" | tr -d '\r' >"$TMP/wine-capture.json"
wineserver -k || true
"$BENCH" --runs "$RUNS" >"$TMP/linux-capture.txt"
W_MS=$(python3 -c 'import json,sys; [print(json.loads(l)["median_ms"]) for l in open(sys.argv[1]) if "median_ms" in l]' "$TMP/wine-capture.json")
W_P90=$(python3 -c 'import json,sys; [print(json.loads(l)["p90_ms"]) for l in open(sys.argv[1]) if "median_ms" in l]' "$TMP/wine-capture.json")
W_BYTES=$(python3 -c 'import json,sys; [print(json.loads(l)["jpeg_bytes"]) for l in open(sys.argv[1]) if "median_ms" in l]' "$TMP/wine-capture.json")
lget() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/linux-capture.txt"; }
L_MS=$(lget streamed_capture_encode_median_ms)
row "what" "median ms" "JPEG bytes"
row "Windows backend under Wine 8 (GDI BitBlt, p90 $W_P90)" "$W_MS" "$W_BYTES"
row "Linux X11 backend (XShm, p90 $(lget streamed_capture_encode_p90_ms))" "$L_MS" "$(lget streamed_jpeg_bytes)"
row "ratio Wine / Linux" "$(ratio "$W_MS" "$L_MS")" ""
echo "display $DISPLAY (Xvfb), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $RUNS warm runs each"
