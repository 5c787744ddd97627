#!/usr/bin/env bash
# `npm start`: sets everything up and runs rtpengine + Kamailio in the
# foreground, logs in this terminal. Ctrl-C (or SIGTERM) stops both.
#
# On a fresh Debian 12, as root, it does the whole set-up itself: Debian
# packages, npm dependencies, the build, the runtime directory, the database,
# a throwaway TLS pair. Configuration is the environment variables of
# kamailio.cfg (defaults: loopback, see scripts/lib/env.ts), plus:
#   RTP_PORT_MIN/RTP_PORT_MAX  rtpengine's media ports (default 10000-40000)
#   START_RTPENGINE=no         use an rtpengine that runs elsewhere (RTPENGINE_NG)
#   WATCH=no                   no automatic reload when a file under src/ changes
# Kamailio itself is started exactly as CONTRACT.md says:
#   kamailio -f kamailio.cfg -DD -E -P $RUN_DIR/kamailio.pid -Y $RUN_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT_DIR=$PWD

say() { echo "start: $*" >&2; }
die() { say "$*"; exit 1; }

# --- set-up --------------------------------------------------------------
bash scripts/install-system-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build

# An empty variable would be taken as a value by Kamailio's preprocessor
# (and break the parse): treat empty as unset.
for name in LOCAL_IP PUBLIC_IP SIP_PORT PRIVATE_PORT WEBRTC_PORT RTPENGINE_NG DISPATCHER_LIST \
  KEMI_BUNDLE RUN_DIR SIP_DOMAIN DB_URL TLS_CERT TLS_KEY WEBRTC_ORIGINS PROXY_SOURCES RTP_PORT_MIN RTP_PORT_MAX; do
  [ -n "${!name:-}" ] || unset "$name"
done
# Fill in the defaults and make every path absolute: Kamailio works from "/"
# once started, and resolves a relative -P/-Y/path there.
TSX=$PROJECT_DIR/node_modules/.bin/tsx
env_exports=$("$TSX" scripts/lib/env.ts) || die "invalid environment (see above)"
eval "$env_exports"

mkdir -p "$RUN_DIR"
for daemon in kamailio rtpengine; do
  pidfile=$RUN_DIR/$daemon.pid
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    die "$daemon is already running with RUN_DIR=$RUN_DIR (pid $(cat "$pidfile"))"
  fi
done

"$TSX" scripts/lib/db.ts ensure "$DB_URL"

if [ -z "${TLS_CERT:-}" ] && ! command -v openssl >/dev/null; then
  # kamailio.cfg then runs without its TLS socket rather than not at all.
  say "openssl is missing (Debian package openssl): no TLS_CERT, so no WebRTC (TLS) socket"
elif [ -z "${TLS_CERT:-}" ]; then
  # Throwaway self-signed pair for the WebRTC (TLS) socket, kept across
  # restarts so a browser that accepted it once keeps working.
  TLS_CERT=$RUN_DIR/tls/kamailio-selfsigned.pem
  TLS_KEY=$RUN_DIR/tls/kamailio-selfsigned.key
  if [ ! -s "$TLS_CERT" ] || [ ! -s "$TLS_KEY" ]; then
    mkdir -p "$RUN_DIR/tls"
    san=()
    for host in "$SIP_DOMAIN" "$PUBLIC_IP"; do
      if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then entry="IP:$host"; else entry="DNS:$host"; fi
      [[ " ${san[*]} " == *" $entry "* ]] || san+=("$entry")
    done
    san_list=$(IFS=,; echo "${san[*]}")
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
      -subj "/CN=$SIP_DOMAIN" -addext "subjectAltName=$san_list" \
      -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null || die "openssl could not create $TLS_CERT"
    chmod 600 "$TLS_KEY"
    say "generated a self-signed TLS certificate for $SIP_DOMAIN: $TLS_CERT"
  fi
  export TLS_CERT TLS_KEY
fi

# --- run -------------------------------------------------------------------
RTPENGINE_PID=
KAMAILIO_PID=
WATCH_PID=

stop_pid() { # NAME PID: SIGTERM, wait up to 10 s, then SIGKILL
  local name=$1 pid=$2
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  say "$name did not stop within 10 s, killing it"
  kill -KILL "$pid" 2>/dev/null || true
}
stop_all() {
  stop_pid "src/ watcher" "$WATCH_PID"
  stop_pid kamailio "$KAMAILIO_PID"
  stop_pid rtpengine "$RTPENGINE_PID"
  WATCH_PID=
  KAMAILIO_PID=
  RTPENGINE_PID=
}
on_signal() {
  trap '' INT TERM
  stop_all
  exit 0
}
trap on_signal INT TERM
trap stop_all EXIT

if [ "${START_RTPENGINE:-yes}" != no ]; then
  # Always with --config-file: without it rtpengine also reads
  # /etc/rtpengine/rtpengine.conf (other ports, other interfaces).
  "$TSX" scripts/lib/rtpengine.ts render "$RUN_DIR/rtpengine.conf"
  rtpengine --config-file="$RUN_DIR/rtpengine.conf" --foreground --log-stderr \
    --pidfile="$RUN_DIR/rtpengine.pid" &
  RTPENGINE_PID=$!
fi
# Kamailio only after rtpengine answers: a failed first ping disables it in
# Kamailio for rtpengine_disable_tout seconds.
"$TSX" scripts/lib/rtpengine.ts wait 10000 || die "rtpengine is not answering on $RTPENGINE_NG"

webrtc="WebRTC tls $LOCAL_IP:$WEBRTC_PORT"
[ -n "${TLS_CERT:-}" ] || webrtc="no WebRTC (TLS_CERT unset)"
say "Kamailio: SIP udp/tcp $LOCAL_IP:$SIP_PORT (public $PUBLIC_IP), private $LOCAL_IP:$PRIVATE_PORT," \
  "$webrtc, domain $SIP_DOMAIN, runtime dir $RUN_DIR"
kamailio -f kamailio.cfg -DD -E -P "$RUN_DIR/kamailio.pid" -Y "$RUN_DIR" &
KAMAILIO_PID=$!

# Automatic reload: a saved change under src/ is built, checked and reloaded
# into the running Kamailio like `npm run reload` (build/reload/watch.ts); a
# change that does not build prints why and the running version stays.
# One node process (no tsx wrapper), so its PID is the one to stop.
if [ "${WATCH:-yes}" != no ]; then
  node --import tsx build/reload/watch.ts &
  WATCH_PID=$!
fi

# Background + wait (not a plain foreground command) so that SIGTERM sent to
# this script is handled at once, not after Kamailio exits by itself.
set +e
wait "$KAMAILIO_PID"
rc=$?
set -e
KAMAILIO_PID=
say "Kamailio exited (status $rc)"
exit "$rc"
