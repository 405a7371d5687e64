# gauntlet's image, built from this repository: a Rust build stage, then a slim Debian runtime
# holding only the binary and the CA bundle it verifies staging's certificates with.
#   docker build -t gauntlet .
# The Kubernetes Jobs of ci/k8s run it (see the README, "Past one machine").
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /work gauntlet
COPY --from=build /src/target/release/gauntlet /usr/local/bin/gauntlet
USER 10001
WORKDIR /work
ENTRYPOINT ["gauntlet"]
CMD ["--help"]
