#!/usr/bin/env python3
"""Figures for the desktop app (docs/benchmarks.md, "Desktop app"):

- start to a usable window: from exec of stint-tracker (signed in through
  the shared auth.json) to (a) its window mapped and (b) the first frame
  painted with the contract picker filled, as the app logs them with
  $STINT_TRACKER_TIMING (CLOCK_MONOTONIC, which this script shares; polling
  from outside, as `xdotool search --sync` does every 500 ms, would measure
  the poll); median and range of RUNS starts;
- memory and CPU while tracking: RSS, its peak, and PSS and private memory (RSS
  counts the shared libraries and font caches whole) after TRACK_S seconds
  of tracking with input, next to `stint track` on the same contract as
  the baseline, and the app idle on its sign-in page.

Runs its own Xvfb (1280x1024), session bus and demo stintd on loopback.
Usage: bench/desktop.py BUILD_DIR [RUNS] [TRACK_S]. Standard library only.
"""
import ast
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 9
TRACK_S = int(sys.argv[3]) if len(sys.argv) > 3 else 60
APP = os.path.join(BUILD, "desktop", "stint-tracker")
STINT = os.path.join(BUILD, "cli", "stint")
STINTD = os.path.join(BUILD, "server", "stintd")
procs = []


def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    procs.append(p)
    return p


def read_fd_line(args, env=None):
    rfd, wfd = os.pipe()
    spawn([a.replace("FD", str(wfd)) for a in args], pass_fds=(wfd,), env=env,
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(wfd)
    with os.fdopen(rfd) as f:
        return f.readline().strip()


def state(env):
    r = subprocess.run(["gdbus", "call", "--session", "--dest", "dev.stint.Tracker",
                        "--object-path", "/dev/stint/Tracker", "--method",
                        "dev.stint.Tracker.State.Get"], env=env, capture_output=True, text=True)
    return json.loads(ast.literal_eval(r.stdout.strip())[0]) if r.returncode == 0 else None


def wait(cond, timeout, step=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise SystemExit("timed out")


def proc_kb(pid, key):
    """A field of /proc/PID/status (VmRSS, VmHWM) or smaps_rollup (Pss, Private_*), in KiB."""
    total = 0
    for name in ("status", "smaps_rollup"):
        with open(f"/proc/{pid}/{name}") as f:
            for line in f:
                k = line.split(":")[0]
                if k == key or (key == "Private" and k in ("Private_Clean", "Private_Dirty")):
                    total += int(line.split()[1])
    return total


def cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory(pid):
    return (f"RSS {proc_kb(pid, 'VmRSS'):7d}  peak {proc_kb(pid, 'VmHWM'):7d}  "
            f"PSS {proc_kb(pid, 'Pss'):7d}  private {proc_kb(pid, 'Private'):7d}")


def main():
    tmp = tempfile.mkdtemp(prefix="stint-bench-desk-")
    display = read_fd_line(["Xvfb", "-displayfd", "FD", "-screen", "0", "1280x1024x24",
                            "-nolisten", "tcp", "-noreset"])
    bus = read_fd_line(["dbus-daemon", "--session", "--nofork", "--print-address=FD"])
    env = dict(os.environ, DISPLAY=f":{display}", DBUS_SESSION_BUS_ADDRESS=bus,
               HOME=tmp, XDG_CONFIG_HOME=f"{tmp}/config", XDG_DATA_HOME=f"{tmp}/data",
               GDK_BACKEND="x11", GTK_A11Y="none")
    env.pop("WAYLAND_DISPLAY", None)
    srv = spawn([STINTD, "--listen", "127.0.0.1:0", "--data", f"{tmp}/srv", "--demo",
                 "--log-level", "warn"], stdout=subprocess.PIPE, text=True)
    contract = None
    for line in srv.stdout:
        if line.strip().startswith("contract"):
            contract = line.split()[1]
        if line.startswith("listening on "):
            env["STINT_SERVER"] = line.split()[-1]
            break
    r = subprocess.run([STINT, "login", "--email", "freelancer@demo.stint", "--password-stdin"],
                       input="demo-freelancer-pw\n", env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    subprocess.run(["xsetroot", "-solid", "#33658a"], env=env, check=True)

    print(f"# stint-tracker on Xvfb, {RUNS} starts each; ms from exec")
    for renderer in ("default (GL, llvmpipe here)", "cairo"):
        e = dict(env)
        if renderer == "cairo":
            e["GSK_RENDERER"] = "cairo"
        e["STINT_TRACKER_TIMING"] = "1"
        mapped, usable = [], []
        for _ in range(RUNS):
            t0 = time.monotonic_ns() // 1000
            app = subprocess.Popen([APP], env=e, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
            for line in app.stderr:
                if "timing: mapped at" in line:
                    mapped.append((int(line.split()[4]) - t0) / 1000)
                elif "timing: usable at" in line:
                    usable.append((int(line.split()[4]) - t0) / 1000)
                    break
            app.send_signal(signal.SIGTERM)
            app.communicate(timeout=30)
        for what, v in (("window mapped", mapped), ("usable", usable)):
            print(f"{renderer:28s} {what:16s} median {statistics.median(v):6.0f}  "
                  f"min {min(v):6.0f}  max {max(v):6.0f}")

    # RSS while tracking, the app and then `stint track` as the baseline.
    print(f"# memory after {TRACK_S} s of tracking with input (KiB)")
    # The app with nobody signed in: GTK and the window, no engine, no contracts.
    e = dict(env, GSK_RENDERER="cairo", XDG_CONFIG_HOME=f"{tmp}/nobody")
    p = subprocess.Popen([APP], env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(lambda: (s := state(e)) and s["window"]["visible"], 30)
    time.sleep(2)
    print(f"{'stint-tracker, sign-in page (cairo)':36s} {memory(p.pid)}")
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
    for face in ("stint-tracker (default renderer)", "stint-tracker (cairo)", "stint track"):
        e = dict(env)
        if "cairo" in face:
            e["GSK_RENDERER"] = "cairo"
        if face == "stint track":
            p = subprocess.Popen([STINT, "track", "--contract", contract, "--memo", "bench"],
                                 env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            p = subprocess.Popen([APP], env=e, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            win = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name",
                                  "^stint Tracker$"], env=e, capture_output=True, text=True,
                                 timeout=60).stdout.split()[0]
            wait(lambda: (s := state(e)) and s["window"]["contract_id"], 30)
            subprocess.run(["xdotool", "windowfocus", "--sync", win], env=e, check=True)
            subprocess.run(["xdotool", "key", "ctrl+m", "ctrl+a"], env=e, check=True)
            subprocess.run(["xdotool", "type", "bench"], env=e, check=True)
            subprocess.run(["xdotool", "key", "ctrl+space"], env=e, check=True)
            wait(lambda: (s := state(e)) and s["tracking"], 30)
        c0, t0 = cpu_s(p.pid), time.monotonic()
        t_end = t0 + TRACK_S
        while time.monotonic() < t_end:
            subprocess.run(["xdotool", "mousemove_relative", "--", "5", "0", "key", "shift"],
                           env=e, check=False)
            time.sleep(0.5)
        cpu = (cpu_s(p.pid) - c0) / (time.monotonic() - t0) * 100
        print(f"{face:36s} {memory(p.pid)}  CPU {cpu:5.2f}% of a core")
        p.send_signal(signal.SIGTERM if face != "stint track" else signal.SIGINT)
        p.wait(timeout=60)
    for p in reversed(procs):
        p.terminate()
        p.wait()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
