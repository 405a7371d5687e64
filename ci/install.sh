#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, idempotently:
# - Debian's nginx (1.22, the legacy reverse proxy: h1 and h2);
# - nginx 1.26 from Debian trixie, unpacked under .build/nginx-trixie (bookworm's nginx has no
#   http_v3_module; trixie's binary runs on bookworm's libssl3). The mirror is derived from this
#   machine's own apt source, so no host name is written here;
# - Caddy (Debian package), a proxy that speaks h3;
# - HAProxy 2.6, Apache httpd 2.4 (apache2-bin: the binary and its modules, without Debian's
#   service and site configuration), Varnish 7.1 and nghttpx 1.52 (nghttp2-proxy), more real
#   proxies for ci/stack.sh. They run only as the stack's own processes: no package service is
#   started on install (policy-rc.d), nor left enabled where systemd runs;
# - hypercorn with aioquic in a venv under .build/venv: an HTTP/3 server sharing no code with ours;
#   and kubernetes-validate in the same venv, for the manifests of ci/k8s;
# - Prometheus 2.42 (Debian package), started by a test with its own config and data folder;
# - Chromium (headless, for the HTML report test), xmllint (JUnit schema validation) and nc
#   (the probe reproducers' replay lines are run by a test); jq, zip and unzip, which the GitLab
#   example's steps use (a test runs them);
# - podman 4.3, with runc beside its crun (crun refuses hybrid cgroups, runc runs there), and
#   debootstrap: the image test builds the Dockerfile, on Docker Hub's base images where they can
#   be pulled, else on the stand-ins ci/local-images.sh makes from Debian's mirror. Where neither
#   can be had it says `skipped`, and why.
# - gcc and make where missing: jemalloc, the binary's allocator, is built from C.
# The tests start and stop every server themselves, on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(pwd)/.build
mkdir -p "$BUILD"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
# jemalloc, the binary's allocator, is built from C with make.
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
[ -x /usr/sbin/haproxy ] || need+=(haproxy)
[ -x /usr/sbin/apache2 ] || need+=(apache2-bin)
[ -x /usr/sbin/varnishd ] || need+=(varnish)
[ -x /usr/sbin/nghttpx ] || need+=(nghttp2-proxy)
command -v curl >/dev/null 2>&1 || need+=(curl)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v chromium >/dev/null 2>&1 || need+=(chromium)        # the HTML report test
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)    # JUnit schema validation
command -v nc >/dev/null 2>&1 || need+=(netcat-openbsd)         # probe replay lines, run by a test
[ -x /usr/bin/prometheus ] || need+=(prometheus)                 # scrapes and receives live metrics in a test
command -v jq >/dev/null 2>&1 || need+=(jq)                     # the GitLab example's steps, run by a test:
command -v unzip >/dev/null 2>&1 || need+=(unzip)               #   jq posts the note, unzip opens main's artifacts
command -v zip >/dev/null 2>&1 || need+=(zip)                   #   and zip packs them as GitLab would
command -v podman >/dev/null 2>&1 || need+=(podman)             # the image test builds the Dockerfile,
command -v runc >/dev/null 2>&1 || need+=(runc)                 #   runs it where crun cannot,
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)   #   on bases made from Debian's mirror
if [ ${#need[@]} -gt 0 ]; then
  echo "ci/install.sh: apt-get install ${need[*]}" >&2
  $SUDO apt-get update -qq
  # A package's maintainer scripts start its service unless policy-rc.d says 101 (containers
  # often have one already): HAProxy, Varnish and nghttpx would take ports 80 and 6081 and
  # outlive every test.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    trap '$SUDO rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if [ -n "$policy" ]; then
    $SUDO rm -f "$policy"
    trap - EXIT
  fi
  # Where systemd runs, the packages also enable their units for the next boot.
  if [ -d /run/systemd/system ]; then
    for unit in haproxy varnish varnishncsa nghttpx prometheus; do
      $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true
    done
  fi
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
# hdrhistogram (HdrHistogram's Python reader) reads the .hlog files back in a test.
if ! "$BUILD/venv/bin/python" -c 'import hdrh' 2>/dev/null; then
  "$BUILD/venv/bin/pip" install -q --disable-pip-version-check 'hdrhistogram>=0.10'
fi
# kubernetes-validate (with the Kubernetes schemas it bundles) checks the manifests of ci/k8s.
if [ ! -x "$BUILD/venv/bin/kubernetes-validate" ]; then
  "$BUILD/venv/bin/pip" install -q --disable-pip-version-check 'kubernetes-validate>=1.30'
fi

/usr/sbin/nginx -v
"$NGX3" -V 2>&1 | grep -o 'nginx version: [^ ]*' | sed 's/$/ (trixie, with http_v3_module)/'
caddy version
/usr/sbin/haproxy -v | sed -n 1p
/usr/sbin/apache2 -v | sed -n 1p
/usr/sbin/varnishd -V 2>&1 | sed -n 1p
/usr/sbin/nghttpx --version
/usr/bin/prometheus --version 2>&1 | sed -n 1p
podman --version
"$BUILD/venv/bin/kubernetes-validate" --version
"$BUILD/venv/bin/hypercorn" --version 2>/dev/null || "$BUILD/venv/bin/python" -c 'import hypercorn, aioquic; print("hypercorn + aioquic", aioquic.__version__)'
