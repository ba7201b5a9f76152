# syntax=docker/dockerfile:1
# The one `exchange` binary (every role is a subcommand), built once and run as a non-root user.
#   docker build -t exchange:local .      (docker-compose.yml builds it for every role)

# --- build: cargo's registry, git checkouts and target dir live in BuildKit cache mounts, so a
# rebuild after a source change recompiles only the workspace crates.
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p exchange \
    && install -m 0755 target/release/exchange /usr/local/bin/exchange

# --- run: Debian slim, curl for the healthchecks, a system user owning the data directory (a
# named volume mounted there inherits that ownership).
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/exchange --shell /usr/sbin/nologin exchange \
    && install -d -o exchange -g exchange -m 0750 /var/lib/exchange /var/lib/exchange/data
COPY --from=builder /usr/local/bin/exchange /usr/local/bin/exchange
USER exchange
WORKDIR /var/lib/exchange
ENV EXCHANGE_DATA_DIR=/var/lib/exchange/data \
    RUST_LOG=info
EXPOSE 8080 8081 8082 8083 8090 8091
ENTRYPOINT ["/usr/local/bin/exchange"]
