#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: Debian's nginx (the legacy
# reverse proxy the tests start on loopback). Idempotent; does nothing when all is present.
set -euo pipefail

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v curl >/dev/null 2>&1 || need+=(curl)

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "ci/install.sh: installing ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts a system nginx on port 80 after installing it; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then systemctl stop nginx >/dev/null 2>&1 || true; fi
pkill -x nginx >/dev/null 2>&1 || true
/usr/sbin/nginx -v
