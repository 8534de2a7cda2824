# The grpc-lb image: `grpc-lb serve` by default, `grpc-lb load` as the client.
#   docker build -t grpc-envoy-lb:0.1.0 .
# With no registry, build on a local stand-in (make docker-images):
#   docker build --build-arg NODE_IMAGE=grpc-lb-standin/node:20.20.2 -t grpc-envoy-lb:0.1.0 .
# Node 20 is what the project is tested on (package.json engines: >=20.19).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Build: every dependency, then proto types and tsc into dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY proto ./proto
COPY src ./src
RUN npm run build

# Runtime: production dependencies, the compiled CLI, the .proto files it loads.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PATH=/app/bin:$PATH
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY proto ./proto
COPY bin ./bin
# The image's `node` user, by number so Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 50051
# bin/grpc-lb execs node, so node is PID 1 and gets SIGTERM: the server drains and exits 0.
CMD ["grpc-lb", "serve", "--host", "0.0.0.0", "--port", "50051"]
