#!/bin/sh
# Calls' figure (bench/calls.mjs): accept → first decoded video frame,
# browser to browser over loopback, median of CALLS calls (default 5).
# bench/run.sh runs it after the server's benchmarks.
#
# usage: sh bench/calls.sh BUILD_DIR
set -eu
BUILD=${1:-build}
here=$(dirname "$0")
echo "# calls: accept to first decoded frame, browser to browser (${CALLS:-5} calls)"
STINT_BUILD_ROOT=$(cd "$BUILD" && pwd) node "$here/calls.mjs" "${CALLS:-5}"
