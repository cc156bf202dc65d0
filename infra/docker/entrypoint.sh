#!/bin/sh
# vad's container entry point: one image, every role, chosen by the first argument.
#
#   docker run vad:0.1.0 api                 HTTP API, review app, /metrics (apps/api)
#   docker run vad:0.1.0 ingest-worker       ffprobe + ffmpeg decode into frame segments
#   docker run vad:0.1.0 embed-worker        image encoder (CPU, or CUDA in the -cuda12 image)
#   docker run vad:0.1.0 aggregate-worker    clips, scores, labels, events
#   docker run vad:0.1.0 scheduler           reconciler, retention, search index
#   docker run vad:0.1.0 vad <args>          the vad CLI (vad db migrate, vad models fetch …, vad tokens create …)
#
# Each role runs the same built entry point as its systemd unit (infra/systemd), as
# PID 1's only child (tini is PID 1), so SIGTERM reaches node and hands running jobs back.
# Installed as /usr/local/bin/vad-entrypoint, and as /usr/local/bin/vad (then it is the CLI).
set -eu

VAD_HOME=${VAD_HOME:-/opt/vad}

usage() {
  cat <<USAGE
usage: <image> ROLE [ARGS…]
roles: api | ingest-worker | embed-worker | aggregate-worker | scheduler | vad <cli args>
USAGE
}

# Called as `vad` (the symlink on PATH, e.g. `kubectl exec deploy/vad-api -- vad status ID`): the CLI.
if [ "$(basename "$0")" = vad ]; then
  set -- vad "$@"
fi

role=${1:-}
if [ "$#" -gt 0 ]; then
  shift
fi

case "$role" in
  api) exec node "$VAD_HOME/apps/api/dist/main.js" "$@" ;;
  ingest-worker) exec node "$VAD_HOME/apps/ingest-worker/dist/main.js" "$@" ;;
  embed-worker) exec node "$VAD_HOME/apps/embed-worker/dist/main.js" "$@" ;;
  aggregate-worker) exec node "$VAD_HOME/apps/aggregate-worker/dist/main.js" "$@" ;;
  scheduler) exec node "$VAD_HOME/apps/scheduler/dist/main.js" "$@" ;;
  vad) exec node "$VAD_HOME/apps/cli/bin/vad.js" "$@" ;;
  help | -h | --help)
    usage
    exit 0
    ;;
  '')
    usage >&2
    exit 64
    ;;
  *)
    echo "vad: unknown role '$role'" >&2
    usage >&2
    exit 64
    ;;
esac
