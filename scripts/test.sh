#!/usr/bin/env bash
# Sets up (scripts/setup.sh), then runs every test with bun and ends with the line
# "N passed, N failed". Exit status is bun's: non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

# The type check is part of the suite: strict TypeScript is a design rule, not a suggestion.
typecheck_failed=0
if ! node_modules/.bin/tsc --noEmit -p .; then
  echo "typecheck: tsc --noEmit found errors (counted as 1 failed)" >&2
  typecheck_failed=1
fi

log=$(mktemp)
# bun prints per-test lines and its summary on stderr; keep both visible and parse the summary.
node_modules/.bin/bun test --timeout 180000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -E '^ *[0-9]+ pass$' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '^ *[0-9]+ fail$' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
rm -f "$log"
if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi  # bun failed before/outside a test
failed=$(( ${failed:-0} + typecheck_failed ))
[ "$typecheck_failed" -eq 0 ] || status=1
echo "${passed:-0} passed, ${failed} failed"
exit "$status"
