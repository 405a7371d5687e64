#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, idempotently:
# - Debian's nginx (1.22, the legacy reverse proxy: h1 and h2);
# - nginx 1.26 from Debian trixie, unpacked under .build/nginx-trixie (bookworm's nginx has no
#   http_v3_module; trixie's binary runs on bookworm's libssl3). The mirror is derived from this
#   machine's own apt source, so no host name is written here;
# - Caddy (Debian package), a proxy that speaks h3;
# - hypercorn with aioquic in a venv under .build/venv: an HTTP/3 server sharing no code with ours;
# - Chromium (headless, for the HTML report test) and xmllint (JUnit schema validation).
# The tests start and stop every server themselves, on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(pwd)/.build
mkdir -p "$BUILD"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
command -v curl >/dev/null 2>&1 || need+=(curl)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v chromium >/dev/null 2>&1 || need+=(chromium)        # the HTML report test
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)    # JUnit schema validation
if [ ${#need[@]} -gt 0 ]; then
  echo "ci/install.sh: apt-get install ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# nginx 1.26 with HTTP/3, from trixie.
NGX3="$BUILD/nginx-trixie/usr/sbin/nginx"
if [ ! -x "$NGX3" ]; then
  D=$(mktemp -d)
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
  mkdir -p "$D"/lists/partial "$D"/cache/archives/partial
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" > "$D"/sources.list
  O="-o Dir::Etc::SourceList=$D/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$D/lists -o Dir::Cache=$D/cache -o Debug::NoLocking=1"
  # shellcheck disable=SC2086
  apt-get $O update -qq 2>/dev/null
  # shellcheck disable=SC2086
  (cd "$D" && apt-get $O download nginx 2>/dev/null)
  dpkg -x "$D"/nginx_*.deb "$BUILD/nginx-trixie"
  rm -rf "$D"
fi

# hypercorn[h3] in a venv.
if [ ! -x "$BUILD/venv/bin/hypercorn" ]; then
  python3 -m venv "$BUILD/venv"
  "$BUILD/venv/bin/pip" install -q --disable-pip-version-check 'hypercorn[h3]>=0.17'
fi

/usr/sbin/nginx -v
"$NGX3" -V 2>&1 | grep -o 'nginx version: [^ ]*' | sed 's/$/ (trixie, with http_v3_module)/'
caddy version
"$BUILD/venv/bin/hypercorn" --version 2>/dev/null || "$BUILD/venv/bin/python" -c 'import hypercorn, aioquic; print("hypercorn + aioquic", aioquic.__version__)'
