#!/bin/sh
# Builds the third-party libraries that the Windows cross build links and
# that Debian has no mingw-w64 package for: SQLite, jansson, libjpeg-turbo
# (libjpeg and TurboJPEG), libwebp and libcurl (with Schannel, Windows' own
# TLS). Each is built, static, from Debian's *source* package, fetched with
# apt through a private sources list (the system's apt configuration is not
# touched) into a cache outside the source tree:
#
#   ${STINT_MINGW_CACHE:-$HOME/.cache/stint/mingw}/<key>/prefix
#
# where <key> names the source package versions and this script's own hash,
# so a new Debian point release or a changed recipe builds a fresh prefix.
# The prefix holds the headers, the static libraries and their .pc files;
# <key>/paths.ini is a meson cross file that points pkg-config there, and
# ${cache}/current.ini is a copy of the last one built (the Makefile passes
# it to meson after cross/mingw-w64-x86_64.ini).
#
# When the cache holds a prefix built by this very script, it does nothing
# (no network): STINT_MINGW_REFRESH=1 asks apt for the versions again.
# Not for: the Debian binary packages (scripts/deps.sh installs those).
set -eu
CACHE=${STINT_MINGW_CACHE:-$HOME/.cache/stint/mingw}
HOST=x86_64-w64-mingw32
PACKAGES="sqlite3 jansson libjpeg-turbo libwebp curl"
JOBS=${STINT_JOBS:-2}
RECIPE=$(sha256sum "$0" | cut -c1-12)

mkdir -p "$CACHE"
cd "$CACHE" # nothing is written beside the sources
if [ "${STINT_MINGW_REFRESH:-0}" != 1 ] && [ -f "$CACHE/current.ini" ] &&
    [ -f "$CACHE/current.key" ]; then
    key=$(cat "$CACHE/current.key")
    case $key in
    *-"$RECIPE")
        if [ -f "$CACHE/$key/done" ]; then
            exit 0
        fi ;;
    esac
fi

for tool in $HOST-gcc $HOST-ar cmake tclsh dpkg-source apt-get make; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "win-deps.sh: $tool is missing (scripts/deps.sh installs it)" >&2
        exit 1
    }
done

# A private apt configuration that knows only Debian's source index.
APT="$CACHE/apt"
mkdir -p "$APT/lists/partial" "$APT/archives/partial"
uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$uri" ] || uri=http://deb.debian.org/debian
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" \
    >"$APT/sources.list"
aptp() { # aptp apt-get|apt-cache ARGS...
    cmd=$1
    shift
    $cmd -q -o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT" -o APT::Sandbox::User=root "$@"
}
echo "win-deps.sh: reading Debian's source index"
aptp apt-get update >"$APT/update.log" 2>&1 || { cat "$APT/update.log" >&2; exit 1; }

versions=""
for p in $PACKAGES; do
    v=$(aptp apt-cache showsrc "$p" 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n 1)
    [ -n "$v" ] || { echo "win-deps.sh: no source package $p in $uri $suite" >&2; exit 1; }
    versions="$versions $p=$v"
done
key=$(echo "$versions" | sha256sum | cut -c1-12)-$RECIPE
TOP="$CACHE/$key"
if [ -f "$TOP/done" ]; then
    cp "$TOP/paths.ini" "$CACHE/current.ini"
    echo "$key" >"$CACHE/current.key"
    exit 0
fi
echo "win-deps.sh: building$versions into $TOP"
rm -rf "$TOP"
mkdir -p "$TOP/src" "$TOP/build"
PREFIX="$TOP/prefix"
LOG="$TOP/build.log"
: >"$LOG"

fetch() { # fetch PACKAGE VERSION: unpacks the source into $TOP/src/PACKAGE
    (cd "$TOP/src" && aptp apt-get source --download-only "$1=$2" >>"$LOG" 2>&1 &&
        dpkg-source --no-check -x "$1"_*.dsc "$1" >>"$LOG" 2>&1) || {
        echo "win-deps.sh: cannot fetch the source of $1 $2 (see $LOG)" >&2
        exit 1
    }
}

run() { # run WHAT COMMAND...: the command's output goes to the log
    echo "  $1"
    shift
    "$@" >>"$LOG" 2>&1 || { tail -n 40 "$LOG" >&2; echo "win-deps.sh: failed: $*" >&2; exit 1; }
}

cmake_cross() { # cmake_cross SRC BUILD ARGS...
    s=$1 b=$2
    shift 2
    run "configure $(basename "$s")" nice cmake -S "$s" -B "$b" \
        -DCMAKE_SYSTEM_NAME=Windows -DCMAKE_SYSTEM_PROCESSOR=AMD64 \
        -DCMAKE_C_COMPILER=$HOST-gcc -DCMAKE_RC_COMPILER=$HOST-windres \
        -DCMAKE_FIND_ROOT_PATH="$PREFIX" -DCMAKE_INSTALL_PREFIX="$PREFIX" \
        -DCMAKE_INSTALL_LIBDIR="$PREFIX/lib" -DCMAKE_INSTALL_INCLUDEDIR="$PREFIX/include" \
        -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF "$@"
    run "build $(basename "$s")" nice cmake --build "$b" -j "$JOBS"
    run "install $(basename "$s")" cmake --install "$b"
}

for pv in $versions; do
    fetch "${pv%%=*}" "${pv#*=}"
done

# SQLite: its configure builds host tools, which a cross build would make as
# .exe; so the amalgamation is generated natively, then cross-compiled.
mkdir -p "$TOP/build/sqlite-native" "$PREFIX/lib/pkgconfig" "$PREFIX/include"
(cd "$TOP/build/sqlite-native" &&
    run "sqlite3 amalgamation" nice "$TOP/src/sqlite3/configure" --disable-tcl &&
    run "sqlite3.c" nice make sqlite3.c)
run "sqlite3 (cross)" nice $HOST-gcc -O2 -DSQLITE_THREADSAFE=1 -DSQLITE_OMIT_LOAD_EXTENSION \
    -DSQLITE_DQS=0 -c "$TOP/build/sqlite-native/sqlite3.c" -o "$TOP/build/sqlite3.o"
rm -f "$PREFIX/lib/libsqlite3.a"
run "libsqlite3.a" $HOST-ar rcs "$PREFIX/lib/libsqlite3.a" "$TOP/build/sqlite3.o"
cp "$TOP/build/sqlite-native/sqlite3.h" "$TOP/build/sqlite-native/sqlite3ext.h" "$PREFIX/include/"
sqlite_v=$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' "$PREFIX/include/sqlite3.h")
cat >"$PREFIX/lib/pkgconfig/sqlite3.pc" <<EOF
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: SQLite
Description: SQL database engine (static, for mingw-w64)
Version: $sqlite_v
Libs: -L\${libdir} -lsqlite3
Cflags: -I\${includedir}
EOF

cmake_cross "$TOP/src/jansson" "$TOP/build/jansson" -DJANSSON_BUILD_SHARED_LIBS=OFF \
    -DJANSSON_EXAMPLES=OFF -DJANSSON_BUILD_DOCS=OFF -DJANSSON_WITHOUT_TESTS=ON
cmake_cross "$TOP/src/libjpeg-turbo" "$TOP/build/libjpeg-turbo" -DWITH_SIMD=0 \
    -DENABLE_SHARED=OFF -DENABLE_STATIC=ON -DWITH_TURBOJPEG=ON -DWITH_JAVA=OFF
cmake_cross "$TOP/src/libwebp" "$TOP/build/libwebp" -DWEBP_BUILD_ANIM_UTILS=OFF \
    -DWEBP_BUILD_CWEBP=OFF -DWEBP_BUILD_DWEBP=OFF -DWEBP_BUILD_GIF2WEBP=OFF \
    -DWEBP_BUILD_IMG2WEBP=OFF -DWEBP_BUILD_VWEBP=OFF -DWEBP_BUILD_WEBPINFO=OFF \
    -DWEBP_BUILD_WEBPMUX=OFF -DWEBP_BUILD_EXTRAS=OFF -DWEBP_BUILD_LIBWEBPMUX=OFF
# libcurl: HTTP only, TLS by Schannel (Windows' certificate store), nothing
# else that would pull another library in.
cmake_cross "$TOP/src/curl" "$TOP/build/curl" -DCURL_USE_SCHANNEL=ON -DCURL_USE_OPENSSL=OFF \
    -DHTTP_ONLY=ON -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF \
    -DCURL_USE_LIBSSH2=OFF -DUSE_LIBIDN2=OFF -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF \
    -DCURL_ZSTD=OFF -DUSE_NGHTTP2=OFF -DCURL_DISABLE_LDAP=ON -DCURL_USE_LIBPSL=OFF \
    -DENABLE_UNIX_SOCKETS=OFF -DCURL_STATICLIB=ON

# A static libcurl needs CURL_STATICLIB in its users' flags.
sed -i 's/^Cflags: \(.*\)$/Cflags: \1 -DCURL_STATICLIB/; /^Cflags:.*CURL_STATICLIB.*CURL_STATICLIB/s/ -DCURL_STATICLIB$//' \
    "$PREFIX/lib/pkgconfig/libcurl.pc"

cat >"$TOP/paths.ini" <<EOF
# Written by scripts/win-deps.sh: where the cross-built libraries are.
[properties]
pkg_config_libdir = '$PREFIX/lib/pkgconfig'
EOF
echo "$versions" >"$TOP/versions"
rm -rf "$TOP/src" "$TOP/build"
touch "$TOP/done"
# One prefix is enough: those of other versions or recipes go.
for d in "$CACHE"/*-*; do
    [ -d "$d" ] && [ "$d" != "$TOP" ] && [ -f "$d/versions" -o -f "$d/build.log" ] && rm -rf "$d"
done
cp "$TOP/paths.ini" "$CACHE/current.ini"
echo "$key" >"$CACHE/current.key"
echo "win-deps.sh: done ($PREFIX)"
