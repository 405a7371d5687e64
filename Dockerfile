# gauntlet's image, built from this repository: a Rust build stage, then a slim Debian runtime
# holding the binary, the CA bundle it verifies staging's certificates with, and the CI steps.
#   docker build -t gauntlet .        (or: podman build -t gauntlet .)
# The Kubernetes Jobs of ci/k8s run it (see the README, "Past one machine"), and so does the
# GitLab job of ci/examples/gitlab-ci.yml, through `gauntlet-ci` (ci/action/gauntlet-ci.sh): that
# job needs bash for the script, curl and unzip to fetch the main branch's last results from
# GitLab's API, and jq to post the summary on the merge request as JSON.
# Build arguments, all optional (unset, the build is the published one): BUILDER and RUNTIME
# replace the two base images, CARGO_FLAGS adds to cargo's. ci/local-images.sh makes stand-ins
# for both bases from Debian's mirror where Docker Hub is out of reach (the README, "The image
# without Docker Hub").
ARG BUILDER
ARG RUNTIME

FROM ${BUILDER:-rust:1-slim-bookworm} AS build
ARG CARGO_FLAGS
WORKDIR /src
# jemalloc, the binary's allocator, is built with make, which the slim Rust image lacks.
RUN command -v make >/dev/null || (apt-get update \
 && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*)
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Cargo reads every target the manifest names before it builds one: the micro-benchmarks too.
COPY benches/hot_paths.rs ./benches/
RUN cargo build --release --locked ${CARGO_FLAGS}

FROM ${RUNTIME:-debian:bookworm-slim}
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates bash curl jq unzip \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /work gauntlet
COPY --from=build /src/target/release/gauntlet /usr/local/bin/gauntlet
COPY ci/action/gauntlet-ci.sh /usr/local/bin/gauntlet-ci
# A non-root user: GitLab's Docker executor makes the checkout writable for it (umask 0000).
USER 10001
WORKDIR /work
ENTRYPOINT ["gauntlet"]
CMD ["--help"]
