#!/usr/bin/env bash
# The chaos suite in its long form (issue 13, docs/reliability.md): every test/chaos/*.test.ts with
# FLOTILLA_CHAOS=long (more rounds, more load). CI runs the same files in their short form as part
# of scripts/test.sh. Prints each fault's counts ("chaos <fault>: ...") and the runner summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
shopt -s nullglob
files=(test/chaos/*.test.ts)
if [ $# -gt 0 ]; then files=("$@"); fi
FLOTILLA_CHAOS=long exec node --import tsx --test --test-reporter=spec --test-timeout=1800000 "${files[@]}"
