#!/bin/sh
# `make run`: start stintd on 127.0.0.1:8080 with its store in ./stint-data,
# seeding demo accounts and a contract on first start.
#
# Without a display: runs the server in the foreground and says what to try;
# Ctrl-C stops it.
#
# With a display ($DISPLAY or $WAYLAND_DISPLAY) and the desktop app built:
# starts the server in the background, signs the demo freelancer in, opens
# the app, and stops the server when the app exits or on Ctrl-C. The demo's
# sign-in, settings and journal live in ./stint-data/demo-home (its own
# XDG_CONFIG_HOME and XDG_DATA_HOME), so your own sign-in is left alone; to
# use the CLI as the same freelancer, export the two variables it prints.
set -eu
BUILD=${1:-build}
DATA=${STINT_DATA:-./stint-data}
LISTEN=${STINT_LISTEN:-127.0.0.1:8080}
APP="$BUILD/desktop/stint-tracker"

cat <<MSG
stint: starting stintd on http://$LISTEN with its store in $DATA
MSG

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ ! -x "$APP" ]; then
    # Tell the user what to try once the server says it is listening.
    "$BUILD/server/stintd" --listen "$LISTEN" --data "$DATA" --demo | while IFS= read -r line; do
        printf '%s\n' "$line"
        case "$line" in
        "listening on "*)
            url=${line#listening on }
            cat <<MSG

Try it (in another terminal):
  export STINT_SERVER=$url PATH=\$PWD/$BUILD/cli:\$PATH
  echo demo-freelancer-pw | stint login --email freelancer@demo.stint --password-stdin
  stint contracts
  stint diary <contract-id>
  stint rooms; stint messages Landing; stint watch
  curl -s $url/api/v1/health

The demo accounts are client@demo.stint (demo-client-pw) and
freelancer@demo.stint (demo-freelancer-pw). Press Ctrl-C to stop.
MSG
            ;;
        esac
    done
    exit 0
fi

# A display: the server in the background, its output in a log, and the app.
mkdir -p "$DATA"
LOG="$DATA/stintd.log"
FIFO=$(mktemp -u "${TMPDIR:-/tmp}/stint-demo.XXXXXX")
mkfifo "$FIFO"
"$BUILD/server/stintd" --listen "$LISTEN" --data "$DATA" --demo >"$FIFO" 2>>"$LOG" &
SERVER=$!
APP_PID=""
cleanup() {
    trap - EXIT INT TERM HUP
    [ -n "$APP_PID" ] && kill -TERM "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null
    kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -f "$FIFO"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Wait for "listening on URL"; everything the server prints goes to the log.
URL=""
exec 3<"$FIFO"
while IFS= read -r line <&3; do
    printf '%s\n' "$line" | tee -a "$LOG"
    case "$line" in
    "listening on "*) URL=${line#listening on }; break ;;
    esac
done
if [ -z "$URL" ]; then
    echo "stint: stintd did not start; see $LOG" >&2
    exit 1
fi
cat <&3 >>"$LOG" &
exec 3<&-

case $BUILD in
/*) CLI_DIR=$BUILD/cli ;;
*) CLI_DIR=\$PWD/$BUILD/cli ;;
esac
DEMO_HOME=$(cd "$DATA" && pwd)/demo-home
export XDG_CONFIG_HOME="$DEMO_HOME/config" XDG_DATA_HOME="$DEMO_HOME/data"
export STINT_SERVER="$URL"
echo demo-freelancer-pw | "$BUILD/cli/stint" login --email freelancer@demo.stint \
    --password-stdin --device "stint demo" >/dev/null
cat <<MSG
stint: $URL is serving the demo (log: $LOG).
stint: opening the desktop app, signed in as freelancer@demo.stint; close it (Quit) or
press Ctrl-C here to stop the server. The CLI as the same freelancer:
  export XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_DATA_HOME=$XDG_DATA_HOME
  export STINT_SERVER=$URL PATH=$CLI_DIR:\$PATH
The demo accounts are client@demo.stint (demo-client-pw) and
freelancer@demo.stint (demo-freelancer-pw).
MSG
STARTED=$(date +%s)
"$APP" &
APP_PID=$!
wait "$APP_PID" || true
APP_PID=""
# One app per session (GtkApplication): a running one is shown instead, and this one leaves.
if [ $(($(date +%s) - STARTED)) -lt 3 ]; then
    echo "stint: a stint Tracker already runs in this session and was shown instead of the" \
        "demo's; quit it first to open the demo's" >&2
fi
