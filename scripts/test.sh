#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: typecheck, lint, then unit and end-to-end
# tests (real runc, registry, etcd, network namespaces). Prints node's test runner summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== lint"
npx eslint src test bench scripts
echo "== tests"
shopt -s globstar nullglob
files=(test/**/*.test.ts)
if [ $# -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-reporter=spec --test-timeout=600000 "${files[@]}"
