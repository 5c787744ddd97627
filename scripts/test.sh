#!/usr/bin/env bash
# `npm test`: everything CI runs, in the order a failure is cheapest to read.
# Sets itself up on a fresh Debian 12 (as root): system packages, npm deps.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund

echo "== type check (routing with Duktape's ES5 lib; tests, mocks and tools with Node's)"
npx tsc -p tsconfig.json --noEmit
npx tsc -p tsconfig.test.json --noEmit
echo "== lint (KEMI int results never used as truth values)"
npx eslint src
echo "== generated KSR facade matches the api_list"
npx tsx build/typegen/typegen.ts --check
echo "== build"
npm run --silent build
echo "== tests (unit, build guards, Duktape, real Kamailio)"
mkdir -p .test-artifacts
status=0
npx vitest run --coverage --reporter=default --reporter=json --outputFile.json=.test-artifacts/vitest.json "$@" || status=$?
# One closing line any CI log reader understands.
node -e '
  const r = require("./.test-artifacts/vitest.json");
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit "$status"
