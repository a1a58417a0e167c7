#!/bin/sh
# The tracker's footprint: `stint track` under Xvfb for a while (default 10
# minutes) with steady input at 10 events a second from xdotool, against a
# release stintd on loopback. Samples the tracker's resident memory and CPU
# time from /proc; prints the peak and final RSS and the CPU share of one
# core, beside the same figures for an idle `sleep` as the baseline of the
# measuring itself (none). Prints figures; asserts nothing.
#
#   sh bench/footprint.sh [BUILD_DIR] [SECONDS]      (defaults: build, 600)
set -eu

BUILD=${1:-build}
SECONDS_RUN=${2:-600}
STINTD=$BUILD/server/stintd
STINT=$BUILD/cli/stint
for f in "$STINTD" "$STINT"; do
    [ -x "$f" ] || { echo "footprint.sh: no $f (build first)" >&2; exit 1; }
done
for tool in Xvfb xdotool display convert python3; do
    command -v $tool >/dev/null || { echo "footprint.sh: $tool is missing" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/stint-bench-footprint.XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$TMP/display" \
    >/dev/null 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -s "$TMP/display" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
export DISPLAY=:$(head -n1 "$TMP/display")
# Something on screen, so screenshots are real work and not blank frames.
convert -size 1920x1080 plasma:fractal "$TMP/bg.png"
display -window root "$TMP/bg.png" || true  # exits once the background is set

"$STINTD" --listen 127.0.0.1:0 --data "$TMP/data" --log-level warn >"$TMP/stintd.out" 2>&1 &
PIDS="$PIDS $!"
i=0
while ! grep -q "listening on" "$TMP/stintd.out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL=$(sed -n 's/^listening on //p' "$TMP/stintd.out")

export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/xdg-data" STINT_SERVER="$URL"
echo 'client password 1' | "$STINT" signup --email c@bench.test --name Client --role client --password-stdin >/dev/null
echo 'freelancer pw 1' | "$STINT" signup --email f@bench.test --name Free --role freelancer --password-stdin >/dev/null
echo 'client password 1' | "$STINT" login --email c@bench.test --password-stdin >/dev/null
C=$("$STINT" --json contracts offer --freelancer f@bench.test --title Bench --rate 10 --currency USD |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["contract"]["id"])')
echo 'freelancer pw 1' | "$STINT" login --email f@bench.test --password-stdin >/dev/null
"$STINT" contracts accept "$C" >/dev/null

"$STINT" track --contract "$C" --memo "Footprint run" --for "${SECONDS_RUN}s" >"$TMP/track.out" 2>&1 &
TRACK=$!
PIDS="$PIDS $TRACK"

# Steady input: 10 events a second, alternating keys and small moves.
(
    end=$(($(date +%s) + SECONDS_RUN))
    while [ "$(date +%s)" -lt "$end" ]; do
        xdotool key --delay 0 k mousemove_relative -- 1 1 key --delay 0 j \
            mousemove_relative -- -1 -1 key --delay 0 l 2>/dev/null
        sleep 0.5
    done
) &
PIDS="$PIDS $!"

python3 - "$TRACK" "$SECONDS_RUN" <<'PY'
import os, sys, time
pid, run = int(sys.argv[1]), int(sys.argv[2])
tick = os.sysconf("SC_CLK_TCK")
def sample():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / tick
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return cpu, rss
time.sleep(5)  # past start-up: sign-in check, contract fetch, journal open
cpu0, _ = sample()
t0 = time.monotonic()
rss = []
try:
    while time.monotonic() - t0 < run - 10:
        time.sleep(1)
        cpu, r = sample()
        rss.append(r)
except (FileNotFoundError, ProcessLookupError, StopIteration):
    pass
elapsed = time.monotonic() - t0
rss.sort()
print(f"tracker over {elapsed:.0f} s of input at 10 events/s:")
print(f"  RSS median {rss[len(rss)//2]/1024:.1f} MB, peak {rss[-1]/1024:.1f} MB")
print(f"  CPU {100*(cpu-cpu0)/elapsed:.3f}% of one core ({cpu-cpu0:.2f} s)")
PY
wait "$TRACK" || true
tail -n 3 "$TMP/track.out" | tr '\r' '\n' | tail -n 2
