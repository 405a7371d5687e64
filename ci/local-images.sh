#!/usr/bin/env bash
# Makes, idempotently, stand-ins for the Dockerfile's two base images where Docker Hub is out of
# reach, from Debian's own mirror (the one this machine's apt uses, so no host name is written
# here), with podman as root:
# - localhost/gauntlet-debian:bookworm, for debian:bookworm-slim: a minbase bookworm from
#   debootstrap, without apt's lists and downloaded packages, its apt sources this machine's.
#   The root filesystem is kept as .build/debian-bookworm-minbase.tar: made once (a minute);
# - localhost/gauntlet-rust:bookworm, for rust:1-slim-bookworm: the same with gcc, libc6-dev and make,
#   but no Rust. The build mounts this machine's toolchain at /usr/local/rust (on PATH) and its
#   crates at /usr/local/cargo/registry (CARGO_HOME is /usr/local/cargo), and cargo builds
#   offline. The names are gauntlet's own, so no other build takes them for Docker Hub's images.
# Then (the test of the image, tests/ci_examples.rs, builds it so):
#   podman build --isolation chroot --network host \
#     --build-arg BUILDER=localhost/gauntlet-rust:bookworm \
#     --build-arg RUNTIME=localhost/gauntlet-debian:bookworm --build-arg CARGO_FLAGS=--offline \
#     -v "$(rustc --print sysroot)":/usr/local/rust:ro \
#     -v "${CARGO_HOME:-$HOME/.cargo}/registry":/usr/local/cargo/registry -t gauntlet .
# `--isolation chroot` runs the build's steps without an OCI runtime (crun refuses hybrid cgroups),
# and `--network host` lets the runtime stage's apt-get reach the mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(pwd)/.build
mkdir -p "$BUILD"
BASE=localhost/gauntlet-debian:bookworm
RUST=localhost/gauntlet-rust:bookworm

if ! podman image exists "$BASE"; then
  TAR="$BUILD/debian-bookworm-minbase.tar"
  if [ ! -s "$TAR" ]; then
    uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$uri" ] || uri=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
    ROOTFS=$(mktemp -d "$BUILD/rootfs.XXXXXX")
    trap 'rm -rf "$ROOTFS"' EXIT
    echo "ci/local-images.sh: debootstrap --variant=minbase bookworm from $uri" >&2
    debootstrap --variant=minbase bookworm "$ROOTFS" "$uri" >"$BUILD/debootstrap.log" 2>&1 \
      || { tail -5 "$BUILD/debootstrap.log" >&2; exit 1; }
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      cp /etc/apt/sources.list.d/debian.sources "$ROOTFS/etc/apt/sources.list.d/"
      rm -f "$ROOTFS/etc/apt/sources.list"
    fi
    rm -rf "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
      "$ROOTFS"/var/lib/apt/lists/*
    tar -C "$ROOTFS" -cf "$TAR.part" .
    mv "$TAR.part" "$TAR"
    rm -rf "$ROOTFS"
    trap - EXIT
  fi
  podman import --change 'CMD ["bash"]' "$TAR" "$BASE" >"$BUILD/local-images.log" 2>&1 \
    || { tail -5 "$BUILD/local-images.log" >&2; exit 1; }
fi

if ! podman image exists "$RUST"; then
  CTX=$(mktemp -d)
  trap 'rm -rf "$CTX"' EXIT
  cat >"$CTX/Containerfile" <<EOF
FROM $BASE
RUN apt-get update \\
 && apt-get install -y --no-install-recommends gcc libc6-dev make ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
ENV CARGO_HOME=/usr/local/cargo PATH=/usr/local/rust/bin:/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
  podman build --isolation chroot --network host -t "$RUST" "$CTX" >"$BUILD/local-images.log" 2>&1 \
    || { tail -5 "$BUILD/local-images.log" >&2; exit 1; }
  rm -rf "$CTX"
  trap - EXIT
fi
podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^($BASE|$RUST) "
