#!/bin/sh
# Installs the Debian packages stint needs to build, run and test, and only
# those that are missing, so that `make run` and `make test` work on a fresh
# machine. It is not a general installer: it knows Debian and apt only.
# Last, it installs the web app's e2e test tools from package-lock.json
# (npm ci: playwright-core only; the browser is Debian's chromium).
set -eu
cd "$(dirname "$0")/.."

PKGS="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev
libturbojpeg0-dev libjpeg62-turbo-dev libwebp-dev libcurl4-openssl-dev libcmocka-dev libwslay-dev
libmagic-dev nettle-dev libsecret-1-dev
libx11-dev libxi-dev libxext-dev libxss-dev libxrandr-dev libxtst-dev
libwayland-dev libwayland-bin wayland-protocols dpkg-dev sway swaybg wtype foot grim
libdbus-1-dev mutter libpipewire-0.3-dev pipewire wireplumber python3-dbus python3-gi
libgtk-4-dev libsoup-3.0-dev libglib2.0-bin libcairo2-dev libfontconfig-dev fonts-dejavu-core
adwaita-icon-theme dbus gnome-keyring
python3 xvfb xauth xdotool x11-utils x11-xserver-utils x11-apps scrot imagemagick poppler-utils sqlite3 curl
chromium
gcc-mingw-w64-x86-64 wine wine64 nsis dpkg-dev tcl cmake make debian-archive-keyring"
# The TURN relay that tests/e2e/test-calls-turn.mjs starts on loopback (Debian
# leaves its service off).
PKGS="$PKGS coturn"

# Node.js runs the e2e tests. A machine that has a node of its own (our
# image's v20, with its npm) keeps it: Debian's nodejs and npm packages would
# fight it. Only a machine without node gets Debian's.
if ! command -v node >/dev/null 2>&1; then
    PKGS="$PKGS nodejs npm"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO apt-get install -y --no-install-recommends $missing
fi

# The e2e tests' npm packages, again whenever the lockfile changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    if command -v npm >/dev/null 2>&1; then
        echo "installing the e2e test packages (npm ci)"
        # A failure here fails the web e2e test only (it says why), not every test.
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error ||
            echo "deps.sh: npm ci failed; the web e2e test will fail" >&2
    else
        echo "deps.sh: node is here but npm is not; the web e2e test will fail" >&2
    fi
fi
