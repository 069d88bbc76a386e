#!/usr/bin/env bash
# Installs what Flotilla needs on a fresh Debian 12 machine, then builds it. Idempotent:
# a second run installs nothing and only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(runc conmon containernetworking-plugins etcd-server etcd-client docker-registry
  umoci skopeo busybox-static nftables iproute2 attr apache2-utils wrk prometheus chromium faketime)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # Services must not start on install (the tests and the demo start their own, on loopback).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's docker-registry and etcd start a system service on install where policy allows: stop
# them, so that nothing listens on the machine's interfaces behind our back.
for svc in docker-registry etcd; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done

# npm packages: install when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (better-sqlite3 compiles from source: about 1-2 minutes)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Build: TypeScript strict, into dist/; then the dashboard bundle into dist/ui (esbuild, no CDN).
npx tsc -p tsconfig.json
npm run --silent build:ui
