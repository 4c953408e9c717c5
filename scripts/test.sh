#!/usr/bin/env bash
# The whole test suite: installs the pinned tools, checks the committed policy bundle against its
# sources, runs the Rego tests with coverage, then every jest suite (both stores, real server,
# real clients; the architecture check of .dependency-cruiser.cjs and the function-length limit are
# test/architecture/). Fails if any test failed or was skipped. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-tools.sh
bash scripts/policies.sh check
bash scripts/policies.sh test

results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js \
  --json --outputFile="$results" "$@" || status=$?
node scripts/jest-summary.mjs "$results" || status=1
exit "$status"
