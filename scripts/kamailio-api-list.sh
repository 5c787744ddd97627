#!/usr/bin/env bash
# Regenerates build/kemi/api_list-5.6.3.txt: the KEMI functions (KSR.*) that
# the project's kamailio.cfg makes available, as Kamailio itself reports them
# (`app_jsdt.api_list` lists only the modules that are loaded). The typed KSR
# facade is generated from this file (npm run typegen).
#
# Starts Kamailio with kamailio.cfg and a minimal bundle on free loopback
# ports, with its own runtime dir, sqlite database and TLS pair (so the tls
# module is loaded too), asks over the ctl socket, and stops it by PID.
# Nothing is sent anywhere but loopback; nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT_DIR=$PWD
OUT=build/kemi/api_list-5.6.3.txt

version=$(kamailio -v | sed -n 's/^version: kamailio \([0-9.]*\).*/\1/p')
if [ "$version" != "5.6.3" ]; then
  echo "api-list: Kamailio $version found, but $OUT describes 5.6.3" >&2
  exit 1
fi

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kamailio-api-list.XXXXXX")
KAMAILIO_PID=
cleanup() {
  local rc=$?
  if [ -n "$KAMAILIO_PID" ] && kill -0 "$KAMAILIO_PID" 2>/dev/null; then
    kill -TERM "$KAMAILIO_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$KAMAILIO_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ "$rc" -ne 0 ] && [ -f "$RUN_DIR/kamailio.log" ]; then
    echo "api-list: failed; last lines of the Kamailio log:" >&2
    tail -n 30 "$RUN_DIR/kamailio.log" >&2
  fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

# Four consecutive ports in 25000-25999 that nothing listens on (TCP or UDP):
# SIP, private, WebRTC/TLS, and a dead rtpengine address.
in_use=$(ss -Hlntu | awk '{print $5}' | sed 's/.*://' | sort -u)
base=
for _ in $(seq 1 50); do
  candidate=$((25000 + (RANDOM % 240) * 4))
  busy=no
  for p in $candidate $((candidate + 1)) $((candidate + 2)) $((candidate + 3)); do
    if grep -qx "$p" <<<"$in_use"; then busy=yes; fi
  done
  if [ "$busy" = no ]; then base=$candidate; break; fi
done
[ -n "$base" ] || { echo "api-list: no free ports in 25000-25999" >&2; exit 1; }

# A bundle that defines every callback the cfg names and nothing else.
cat >"$RUN_DIR/api-list.js" <<'EOF'
function ksr_request_route() {}
function ksr_xhttp_event(evname) {}
function ksr_websocket_event(evname) {}
EOF
# One destination, flagged disabled (4): the dispatcher needs a list but must
# not probe anything.
echo "1 sip:127.0.0.1:$((base + 3)) 4 0" >"$RUN_DIR/dispatcher.list"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj "/CN=api-list" -keyout "$RUN_DIR/tls.key" -out "$RUN_DIR/tls.pem" 2>/dev/null

export LOCAL_IP=127.0.0.1 PUBLIC_IP=127.0.0.2 SIP_DOMAIN=127.0.0.2
export SIP_PORT=$base PRIVATE_PORT=$((base + 1)) WEBRTC_PORT=$((base + 2))
export RTPENGINE_NG="udp:127.0.0.1:$((base + 3))"
export RUN_DIR DISPATCHER_LIST="$RUN_DIR/dispatcher.list" KEMI_BUNDLE="$RUN_DIR/api-list.js"
export DB_URL="sqlite://$RUN_DIR/kamailio.sqlite" TLS_CERT="$RUN_DIR/tls.pem" TLS_KEY="$RUN_DIR/tls.key"
# Replication on (WITH_DMQ: dmq, dmq_usrloc, path), so their functions are in
# the list; the one peer is the dead rtpengine address: nothing answers there.
export DMQ_SERVER_ADDRESS="sip:127.0.0.1:$((base + 1))" DMQ_NOTIFICATION_ADDRESS="sip:127.0.0.1:$((base + 3))" NODE_ID=1
"$PROJECT_DIR/node_modules/.bin/tsx" scripts/lib/db.ts ensure "$DB_URL" >/dev/null

kamailio -f kamailio.cfg -DD -E -P "$RUN_DIR/kamailio.pid" -Y "$RUN_DIR" >"$RUN_DIR/kamailio.log" 2>&1 &
KAMAILIO_PID=$!

CTL="unix:$RUN_DIR/kamailio_ctl"
for _ in $(seq 1 100); do
  kill -0 "$KAMAILIO_PID" 2>/dev/null || { echo "api-list: Kamailio exited at start" >&2; exit 1; }
  kamcmd -s "$CTL" core.version >/dev/null 2>&1 && break
  sleep 0.1
done
kamcmd -s "$CTL" app_jsdt.api_list >"$RUN_DIR/api_list.txt"

# The modules the routing depends on must be in the list, or the cfg lost them.
for module in auth auth_db registrar dmq path textopsx tls websocket xhttp dispatcher rtpengine nathelper htable pike tm tmx rr sl kx; do
  grep -q "module: $module\$" "$RUN_DIR/api_list.txt" || { echo "api-list: module $module missing from the list" >&2; exit 1; }
done

mv "$RUN_DIR/api_list.txt" "$OUT"
echo "api-list: wrote $OUT ($(grep -c 'func: {' "$OUT") functions, Kamailio $version)"
