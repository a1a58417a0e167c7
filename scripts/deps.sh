#!/bin/sh
# Installs the Debian packages stint needs to build, run and test, and only
# those that are missing, so that `make run` and `make test` work on a fresh
# machine. It is not a general installer: it knows Debian and apt only.
set -eu

PKGS="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev
libturbojpeg0-dev libwebp-dev libcurl4-openssl-dev libcmocka-dev libwslay-dev
libx11-dev libxi-dev libxext-dev libxss-dev libxrandr-dev libxtst-dev
libgtk-4-dev libsoup-3.0-dev libcairo2-dev libfontconfig-dev fonts-dejavu-core
python3 xvfb xauth xdotool x11-utils x11-xserver-utils scrot imagemagick poppler-utils sqlite3 curl"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $missing
