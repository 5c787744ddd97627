#!/usr/bin/env bash
# Installs the Debian 12 packages the project runs against (Kamailio 5.6.3 with
# app_jsdt, rtpengine, HAProxy, SIPp, Duktape's CLI; for the namespace stack:
# nftables, iproute2, procps (sysctl), tcpdump for captures, sngrep to watch; for
# the WebRTC end-to-end tests: Debian's chromium, which playwright-core drives,
# never a browser of its own download; valgrind for `npm run bench:duk --
# --counter instructions`). Idempotent: skips apt
# entirely when everything is present, so `npm start`/`npm test` stay fast.
set -euo pipefail

PACKAGES=(
  kamailio kamailio-extra-modules kamailio-tls-modules kamailio-websocket-modules
  kamailio-sqlite-modules kamailio-utils-modules
  rtpengine-daemon haproxy sip-tester duktape sqlite3 openssl nftables iproute2 tshark
  tcpdump sngrep procps chromium valgrind
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-system-deps: run as root (or: sudo $0)" >&2
  exit 1
fi
echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
