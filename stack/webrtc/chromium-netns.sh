#!/bin/sh
# Playwright's executablePath for a browser on a host of the stack: Debian's
# Chromium inside the network namespace $KSR_NETNS. `ip netns exec` execs the
# browser with the pipes Playwright talks to it over (--remote-debugging-pipe,
# fds 3 and 4), so the test drives it from the root namespace while every
# packet it sends leaves from the client host.
set -eu
exec ip netns exec "${KSR_NETNS:?KSR_NETNS names the namespace}" "${KSR_CHROMIUM:-/usr/bin/chromium}" "$@"
