#!/usr/bin/env bash
# Sets everything up, starts a one-node cluster (`flotilla up`, embedded store) and deploys a
# demo web service that a person can reach with curl; prints where. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --import tsx scripts/demo.ts
