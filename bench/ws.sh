#!/bin/sh
# The WebSocket hub's figures (bench/ws.py): fan-out latency to a 100-member
# room, messages per second with and without connected members, and
# stintd's RSS holding WS_IDLE idle connections. bench/run.sh runs it after
# the server's benchmarks.
#
# usage: sh bench/ws.sh BUILD_DIR   (environment: WS_IDLE, default 10000)
set -eu
BUILD=${1:-build}
here=$(dirname "$0")
echo "# ws: fan-out to 100 members, message rate, ${WS_IDLE:-10000} idle connections"
# Each connection is a descriptor on both ends; take what the hard limit allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
python3 "$here/ws.py" --stintd "$BUILD/server/stintd" --idle "${WS_IDLE:-10000}"
