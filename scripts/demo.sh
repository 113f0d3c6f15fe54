#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds dist/esxkit, and runs the demo (scripts/demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node_modules/.bin/bun run build >/dev/null
exec node_modules/.bin/bun scripts/demo.ts
