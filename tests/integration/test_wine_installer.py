"""The installer that `make windows` builds, verified under Wine 8: a silent
install (/S) puts stint.exe (and the tray app) in Program Files with
Start-menu shortcuts and an uninstall entry; stint.exe runs from there; the
uninstaller removes the programs and keeps the user's journal and settings,
unless /PURGE asks. The uninstaller runs with _?= and the install folder's
8.3 name so that it is synchronous (NSIS otherwise copies itself and
returns at once). What only real Windows shows (UAC, SmartScreen, signing)
is in docs/windows.md.
"""
import glob
import os
import shutil
import subprocess

import wine_env as w
from harness import tap

UNINST_KEY = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\stint"


def installer():
    found = sorted(glob.glob(os.path.join(w.WIN_BUILD, "stint-setup-*.exe")))
    assert found, f"no stint-setup-*.exe in {w.WIN_BUILD} (make windows builds it)"
    return found[-1]


def install_dir():
    return os.path.join(w.prefix(), "drive_c", "Program Files", "stint")


def start_menu():
    return os.path.join(w.appdata(), "Microsoft", "Windows", "Start Menu", "Programs", "stint")


def short_program_files():
    """The 8.3 name Wine gives C:\\Program Files (not always PROGRA~1)."""
    r = w.run(["cmd", "/c", "dir", "/x", "C:\\"])
    for line in r.stdout.splitlines():
        parts = line.split()
        if line.rstrip().endswith(" Program Files") and "<DIR>" in parts:
            short = parts[parts.index("<DIR>") + 1]
            if short != "Program":
                return short
    raise AssertionError(f"no 8.3 name for Program Files in: {r.stdout}")


def uninstall(*extra):
    uninst = os.path.join(install_dir(), "uninstall.exe")
    assert os.path.exists(uninst), os.listdir(install_dir())
    r = w.run([uninst, "/S", *extra, f"_?=C:\\{short_program_files()}\\stint"], timeout=120,
              check=False)
    assert r.returncode == 0, r
    # With _?= the uninstaller does not delete itself: that is left to the caller.
    os.remove(uninst)
    os.rmdir(install_dir())


def clean():
    w.prefix()
    w.reset_user_state()
    shutil.rmtree(install_dir(), ignore_errors=True)
    shutil.rmtree(start_menu(), ignore_errors=True)
    w.run(["reg", "delete", UNINST_KEY, "/f"], check=False)


def user_data():
    """A journal, a shot and settings as a user of the tracker would have."""
    local = os.path.join(w.localappdata(), "stint")
    os.makedirs(os.path.join(local, "shots"), exist_ok=True)
    with open(os.path.join(local, "journal.db"), "wb") as f:
        f.write(b"SQLite format 3\x00 (a journal)")
    with open(os.path.join(local, "shots", "a.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff")
    roaming = os.path.join(w.appdata(), "stint")
    os.makedirs(roaming, exist_ok=True)
    with open(os.path.join(roaming, "tracker.conf"), "w") as f:
        f.write("idle_minutes = 5\n")
    return [os.path.join(local, "journal.db"), os.path.join(local, "shots", "a.jpg"),
            os.path.join(roaming, "tracker.conf")]


# Windows' own DLLs, which every Windows 10 and 11 has; msvcrt.dll is the
# system's C runtime that mingw-w64 links against.
SYSTEM_DLLS = {"advapi32.dll", "bcrypt.dll", "comctl32.dll", "comdlg32.dll", "crypt32.dll",
               "gdi32.dll", "kernel32.dll", "msvcrt.dll", "ole32.dll", "oleaut32.dll",
               "secur32.dll", "shell32.dll", "shlwapi.dll", "user32.dll", "uxtheme.dll",
               "winhttp.dll", "ws2_32.dll", "wtsapi32.dll", "dwmapi.dll", "shcore.dll",
               "iphlpapi.dll", "normaliz.dll", "wldap32.dll", "dxgi.dll", "d3d11.dll",
               "winmm.dll", "version.dll", "imm32.dll", "powrprof.dll", "userenv.dll"}


@tap.test
def test_the_programs_import_only_windows_own_dlls():
    w.need("x86_64-w64-mingw32-objdump")
    exes = [w.STINT_EXE] + glob.glob(os.path.join(w.WIN_BUILD, "windows", "tray", "*.exe"))
    for exe in exes:
        w.need_file(exe, os.path.basename(exe))
        out = subprocess.run(["x86_64-w64-mingw32-objdump", "-p", exe], capture_output=True,
                             text=True, check=True).stdout
        dlls = {l.split(":", 1)[1].strip().lower() for l in out.splitlines()
                if "DLL Name:" in l}
        assert dlls and dlls <= SYSTEM_DLLS, (exe, sorted(dlls - SYSTEM_DLLS))


@tap.test
def test_silent_install_runs_from_program_files_verified_under_wine_8():
    clean()
    r = w.run([installer(), "/S"], timeout=120, check=False)
    assert r.returncode == 0, r
    files = sorted(os.listdir(install_dir()))
    assert "stint.exe" in files and "uninstall.exe" in files, files
    if os.path.exists(os.path.join(w.WIN_BUILD, "windows", "tray", "stint-tracker.exe")):
        assert "stint-tracker.exe" in files, files
    links = os.listdir(start_menu())
    assert "stint command line.lnk" in links and "Uninstall stint.lnk" in links, links
    r = w.run([r"C:\Program Files\stint\stint.exe", "--version"])
    assert r.stdout.startswith("stint "), r
    version = r.stdout.split()[1]
    assert os.path.basename(installer()) == f"stint-setup-{version}.exe", (installer(), version)
    r = w.run([r"C:\Program Files\stint\stint.exe", "help"])
    assert "track" in r.stdout and "signup" not in r.stdout, r
    r = w.run(["reg", "query", UNINST_KEY], check=False)
    assert "DisplayVersion" in r.stdout and version in r.stdout, r


@tap.test
def test_uninstall_removes_the_programs_and_keeps_the_journal_verified_under_wine_8():
    clean()
    assert w.run([installer(), "/S"], timeout=120, check=False).returncode == 0
    kept = user_data()
    uninstall()
    assert not os.path.exists(install_dir())
    assert not os.path.exists(start_menu()), os.listdir(start_menu())
    for path in kept:
        assert os.path.exists(path), f"{path} was removed"
    r = w.run(["reg", "query", UNINST_KEY], check=False)
    assert "DisplayVersion" not in r.stdout, r


@tap.test
def test_uninstall_with_purge_removes_the_local_data_too_verified_under_wine_8():
    clean()
    assert w.run([installer(), "/S"], timeout=120, check=False).returncode == 0
    gone = user_data()
    uninstall("/PURGE")
    assert not os.path.exists(install_dir())
    for path in gone:
        assert not os.path.exists(path), f"{path} was kept"


tap.main()
