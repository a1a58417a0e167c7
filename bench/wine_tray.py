"""The tray app's footprint under Wine 8 (bench/wine.sh runs it): a release
stintd on loopback, a freelancer signed in through stint-tracker.exe's own
window in Wine's virtual desktop, tracking a contract for SECONDS with steady
input from xdotool (10 events a second: pointer moves and Shift presses,
which type nothing). Samples the Wine process of stint-tracker.exe ten times
a second from /proc: resident memory (what Windows would call the working
set, plus what Wine itself maps) median, 95th percentile and peak; its CPU
time over the run. Prints "name value" lines; asserts nothing beyond the
run working.

    python3 bench/wine_tray.py WIN_BUILD LINUX_BUILD SECONDS
"""
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WIN_BUILD, LINUX_BUILD, SECONDS = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.environ["STINT_WIN_BUILD"] = os.path.abspath(WIN_BUILD)
os.environ["STINT_BUILD_ROOT"] = os.path.abspath(LINUX_BUILD)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import wine_env as w  # noqa: E402
from harness import Server  # noqa: E402

TRAY = os.path.join(w.WIN_BUILD, "windows", "tray", "stint-tracker.exe")
TICK = os.sysconf("SC_CLK_TCK")


def tray_pid():
    """The Linux pid of the Wine process running stint-tracker.exe (read from /proc)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"stint-tracker.exe"):
            return int(pid)
    return None


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def err_line(app, text, timeout):
    line = w.wait_for(lambda: next((l for l in app.err if text in l), None), timeout, 0.2)
    if not line:
        sys.exit(f"wine_tray.py: no {text!r} from the app: {app.err[-10:]}")
    return line


def main():
    srv = Server(segment_s=60)
    client = srv.user("client")
    fl = srv.user("freelancer")
    srv.contract(client, fl, title="Bench", memo_required=False)
    w.reset_user_state()
    app = w.Program([TRAY], desktop="stintbench")
    try:
        err_line(app, "signed out view", 60)
        wid = w.focus_desktop("stintbench")
        w.xdo("mousemove", "--window", wid, "300", "90")
        w.xdo("click", "1")
        w.xdo("type", "--delay", "10", srv.url)
        w.xdo("key", "Tab")
        w.xdo("type", "--delay", "10", fl["email"])
        w.xdo("key", "Tab")
        w.xdo("type", "--delay", "10", fl["password"])
        w.xdo("key", "Return")
        err_line(app, "signed in as", 60)
        w.xdo("key", "ctrl+space")
        err_line(app, "tracking", 60)
        pid = tray_pid()
        if not pid:
            sys.exit("wine_tray.py: cannot find the stint-tracker.exe process")

        stop = threading.Event()

        def feed():
            # 10 events a second: a pointer move, and every fifth a Shift press.
            n = 0
            while not stop.is_set():
                if n % 5 == 4:
                    w.xdo("key", "shift")
                else:
                    w.xdo("mousemove_relative", "--", "2" if n % 2 else "-2", "1" if n % 2 else "-1")
                n += 1
                stop.wait(0.1)
        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        samples = []
        cpu0, t0 = cpu_s(pid), time.monotonic()
        while time.monotonic() - t0 < SECONDS:
            samples.append(rss_kb(pid))
            time.sleep(0.1)  # the sampling period
        cpu1, t1 = cpu_s(pid), time.monotonic()
        stop.set()
        feeder.join()
        samples.sort()
        print(f"tray_rss_median_kb {int(statistics.median(samples))}")
        print(f"tray_rss_p95_kb {samples[int(len(samples) * 0.95) - 1]}")
        print(f"tray_rss_peak_kb {samples[-1]}")
        print(f"tray_cpu_s {cpu1 - cpu0:.2f}")
        print(f"tray_cpu_percent {100 * (cpu1 - cpu0) / (t1 - t0):.2f}")
        print(f"tray_seconds {t1 - t0:.0f}")
        print(f"tray_samples {len(samples)}")
    finally:
        app.kill()
        srv.stop()
        w.cleanup()


if __name__ == "__main__":
    main()
