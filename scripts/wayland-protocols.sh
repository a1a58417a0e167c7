#!/bin/sh
# Prints the directory that holds the wlroots protocol XML stint's Wayland
# backend and tests are generated from (wlr-screencopy-unstable-v1.xml,
# idle.xml: KDE's idle, wlr-virtual-pointer-unstable-v1.xml). Debian 12 has
# no package that installs them, so this fetches the Debian *source*
# package `wlroots` with apt, once, into a cache outside the source tree
# ($STINT_CACHE, else $XDG_CACHE_HOME/stint, else ~/.cache/stint), with a
# private sources.list so the system's apt configuration is not touched.
# meson.build runs it at configure time; nothing of wlroots is copied into
# the repository. ext-idle-notify-v1 comes from the wayland-protocols
# package (installed XML) and is not fetched here.
set -eu

cache="${STINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stint}/wlroots-src"
want="wlr-screencopy-unstable-v1.xml idle.xml wlr-virtual-pointer-unstable-v1.xml"

have_all() {
    for f in $want; do
        [ -f "$cache/src/protocol/$f" ] || return 1
    done
}

if ! have_all; then
    mkdir -p "$cache"
    uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
    [ -n "$uri" ] || uri=http://deb.debian.org/debian
    suite=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
    [ -n "$suite" ] || suite=bookworm
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" \
        >"$cache/sources.list"
    mkdir -p "$cache/lists/partial"
    opts="-o Dir::Etc::SourceList=$cache/sources.list -o Dir::Etc::SourceParts=/dev/null
          -o Dir::State::Lists=$cache/lists -o Debug::NoLocking=1"
    # shellcheck disable=SC2086
    apt-get -q $opts update >&2
    rm -rf "$cache/dl" "$cache/src"
    mkdir -p "$cache/dl"
    # shellcheck disable=SC2086
    (cd "$cache/dl" && apt-get -q $opts source --download-only wlroots >&2)
    dpkg-source -x "$cache"/dl/wlroots_*.dsc "$cache/src" >&2
    if ! have_all; then
        echo "wayland-protocols.sh: the wlroots source has no $want" >&2
        exit 1
    fi
fi
echo "$cache/src/protocol"
