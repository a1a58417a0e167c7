#!/bin/sh
# `make run`: start stintd on 127.0.0.1:8080 with its store in ./stint-data,
# seeding demo accounts and a contract on first start, and say what to try.
# Runs in the foreground; Ctrl-C stops the server.
set -eu
BUILD=${1:-build}
DATA=${STINT_DATA:-./stint-data}
LISTEN=${STINT_LISTEN:-127.0.0.1:8080}

cat <<MSG
stint: starting stintd on http://$LISTEN with its store in $DATA
MSG

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
  curl -s $url/api/v1/health

The demo accounts are client@demo.stint (demo-client-pw) and
freelancer@demo.stint (demo-freelancer-pw). Press Ctrl-C to stop.
MSG
        ;;
    esac
done
