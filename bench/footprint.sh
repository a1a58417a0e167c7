#!/bin/sh
# The tracker's footprint: `stint track` under Xvfb for a while (default 10
# minutes) with steady input at 10 events a second from xdotool, against a
# release stintd on loopback. `stint track` execs stint-recorder (same pid),
# which runs `stint _upload` helpers for its uploads; both are measured.
# Samples /proc ten times a second: the recorder's resident memory (median,
# 95th percentile, peak, share of samples over 8 MB), the helpers' (each
# one seen, and the recorder plus its helpers together), and CPU time of
# the recorder alone and with its helpers (cutime, reaped children).
# Prints figures; asserts nothing. A build from before the split (one
# process, libcurl in it) runs the same script: it then has no helpers.
# DESKTOP=wayland runs the same on a headless sway (bench/sway-headless),
# with wtype's keys as the input (10 a second), for the Wayland backend's
# footprint beside X11's.
#
#   sh bench/footprint.sh [BUILD_DIR] [SECONDS]      (defaults: build, 600)
set -eu
DESKTOP=${DESKTOP:-x11}

BUILD=${1:-build}
SECONDS_RUN=${2:-600}
STINTD=$BUILD/server/stintd
STINT=$BUILD/cli/stint
for f in "$STINTD" "$STINT"; do
    [ -x "$f" ] || { echo "footprint.sh: no $f (build first)" >&2; exit 1; }
done
if [ "$DESKTOP" = wayland ]; then TOOLS="sway swaybg wtype convert python3"; else TOOLS="Xvfb xdotool display convert python3"; fi
for tool in $TOOLS; do
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

if [ "$DESKTOP" = wayland ]; then
    convert -size 1920x1080 plasma:fractal "$TMP/bg.png"
    chmod 755 "$TMP"
    . "$(dirname "$0")/sway-headless"
    sway_start "$TMP/run" "$TMP/bg.png"
    PIDS="$PIDS $SWAY_PID"
else
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$TMP/display" \
    >/dev/null 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -s "$TMP/display" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
export DISPLAY=:$(head -n1 "$TMP/display")
# Something on screen, so screenshots are real work and not blank frames.
convert -size 1920x1080 plasma:fractal "$TMP/bg.png"
display -window root "$TMP/bg.png" || true  # exits once the background is set
fi

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
        if [ "$DESKTOP" = wayland ]; then
            wtype kjlhg 2>/dev/null
        else
        xdotool key --delay 0 k mousemove_relative -- 1 1 key --delay 0 j \
            mousemove_relative -- -1 -1 key --delay 0 l 2>/dev/null
        fi
        sleep 0.5
    done
) &
PIDS="$PIDS $!"

python3 - "$TRACK" "$SECONDS_RUN" <<'PY'
import os, sys, time
pid, run = int(sys.argv[1]), int(sys.argv[2])
tick = os.sysconf("SC_CLK_TCK")
def rss_kb(p):
    try:
        with open(f"/proc/{p}/status") as f:
            return next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
    except (FileNotFoundError, ProcessLookupError):
        return 0
def cpu():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / tick
    kids = (int(fields[13]) + int(fields[14])) / tick
    return own, kids
def children():
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return kids
time.sleep(5)  # past start-up: sign-in check, contract fetch, journal open
own0, kids0 = cpu()
t0 = time.monotonic()
rec, tree, helper_peak, helpers = [], [], {}, set()
try:
    while time.monotonic() - t0 < run - 10:
        time.sleep(0.1)
        r = rss_kb(pid)
        if not r:
            break
        total = r
        for k in children():
            kr = rss_kb(k)
            helpers.add(k)
            helper_peak[k] = max(helper_peak.get(k, 0), kr)
            total += kr
        rec.append(r)
        tree.append(total)
        own, kids = cpu()
except (FileNotFoundError, ProcessLookupError, StopIteration):
    pass
elapsed = time.monotonic() - t0
rec.sort()
tree.sort()
mb = lambda kb: kb / 1024
over = sum(1 for r in rec if r > 8 * 1024)
print(f"tracker over {elapsed:.0f} s of input at 10 events/s ({len(rec)} samples):")
print(f"  recorder RSS median {mb(rec[len(rec)//2]):.1f} MB, p95 {mb(rec[len(rec)*95//100]):.1f} MB, "
      f"peak {mb(rec[-1]):.1f} MB; over 8 MB in {100*over/len(rec):.1f}% of samples")
if helpers:
    peaks = sorted(helper_peak.values())
    print(f"  helpers seen: {len(helpers)}, their RSS peak median {mb(peaks[len(peaks)//2]):.1f} MB, "
          f"max {mb(peaks[-1]):.1f} MB")
print(f"  recorder + helpers RSS median {mb(tree[len(tree)//2]):.1f} MB, peak {mb(tree[-1]):.1f} MB")
print(f"  CPU {100*(own-own0)/elapsed:.3f}% of one core ({own-own0:.2f} s); "
      f"with helpers {100*(own-own0+kids-kids0)/elapsed:.3f}% ({own-own0+kids-kids0:.2f} s)")
PY
wait "$TRACK" || true
tail -n 3 "$TMP/track.out" | tr '\r' '\n' | tail -n 2

# One helper on its own: `stint _upload` as the recorder runs it, twenty
# times, for its peak RSS and CPU time (from wait4), a pass with the totals
# and a start's reads; the queue is empty by now, so each pass costs what a
# quiet period's would. (A build from before the split has no helper.)
"$STINT" _upload --help >/dev/null 2>&1 || exit 0
python3 - "$STINT" "$URL" "f@bench.test" "$XDG_DATA_HOME/stint" "$XDG_CONFIG_HOME/stint/auth.json" "$C" <<'PY'
import json, os, subprocess, sys, time
stint, url, email, journal, auth, contract = sys.argv[1:]
token = json.load(open(auth))["token"]
for name, args in (("pass with totals", ["--server", url, "--account", f"{url} {email}",
                                         "--dir", journal, "--totals", contract, "--tz", "UTC"]),
                   ("start's reads", ["--server", url, "--start", contract, "--config"])):
    rss, cpu, wall = [], [], []
    for _ in range(20):
        t0 = time.monotonic()
        p = subprocess.Popen([stint, "_upload", *args], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL)
        p.stdin.write((token + "\n").encode())
        p.stdin.close()
        _, status, ru = os.wait4(p.pid, 0)
        wall.append(time.monotonic() - t0)
        rss.append(ru.ru_maxrss)
        cpu.append(ru.ru_utime + ru.ru_stime)
    med = lambda v: sorted(v)[len(v) // 2]
    print(f"helper, {name}: peak RSS median {med(rss)/1024:.1f} MB, CPU {1000*med(cpu):.0f} ms, "
          f"wall {1000*med(wall):.0f} ms (medians of 20)")
PY
