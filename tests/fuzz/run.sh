#!/bin/sh
# Runs the libFuzzer targets of a build, each for SECONDS on its corpus:
# the seeds of tests/fuzz/corpus/NAME/ copied into BUILD/fuzz-corpus/NAME/,
# where what a run finds is kept for the next one. Crash inputs go to
# BUILD/fuzz-artifacts/. The targets themselves write only under $TMPDIR.
#
# usage: run.sh BUILD SECONDS [TARGET...]   (default: BUILD/tests/fuzz/fuzz-*)
set -eu

if [ $# -lt 2 ]; then
    echo "usage: run.sh BUILD SECONDS [TARGET...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
    for exe in "$build"/tests/fuzz/fuzz-*; do
        [ -f "$exe" ] && [ -x "$exe" ] && set -- "$@" "$exe"
    done
fi
if [ $# -eq 0 ]; then
    echo "run.sh: no fuzz targets in '$build/tests/fuzz' (configure with CC=clang -Dfuzz=true)" >&2
    exit 1
fi

status=0
mkdir -p "$build/fuzz-artifacts"
for exe in "$@"; do
    case $exe in
    /*) ;;
    *) exe=$PWD/$exe ;;
    esac
    name=$(basename "$exe")
    short=${name#fuzz-}
    corpus=$build/fuzz-corpus/$short
    dict=$here/$short.dict
    mkdir -p "$corpus"
    if [ -d "$here/corpus/$short" ]; then
        # Seeds are refreshed; what earlier runs found stays.
        cp "$here/corpus/$short"/* "$corpus"/
    fi
    [ -f "$dict" ] || dict=/dev/null
    echo "run.sh: $name for $seconds s on $corpus"
    # From $TMPDIR, so that nothing a target might write lands in the tree.
    if ! (cd "${TMPDIR:-/tmp}" && "$exe" -max_total_time="$seconds" -timeout=30 \
        -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$name-" \
        -dict="$dict" "$corpus"); then
        echo "run.sh: $name failed; the input is in $build/fuzz-artifacts/" >&2
        status=1
    fi
done
exit $status
