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
# The tests start their own nginx on free loopback ports, so a system nginx (if the package
# started one) does not get in the way.
/usr/sbin/nginx -v
