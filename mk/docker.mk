# Docker: the engine, the images, the seed's Compose targets, the Compose scenarios, e2e.
# Included by the Makefile; variables such as COMPOSE come from there.
#
#   make docker-engine        use the engine that answers, or (CI=true / GRPC_LB_ALLOW_INSTALL=1,
#                             Linux, root) install Debian's docker.io, start dockerd, build Compose v2
#   make docker-images        stand-in base images + the server image, with no container registry
#   make docker-cluster       3 servers and Envoy (IMAGES=standin: the stand-ins instead of the
#                             official node and envoyproxy/envoy images)
#   make docker-test          100 calls through Envoy, the distribution
#   make docker-doctor        grpc-lb doctor on the running cluster's Envoy
#   make e2e-compose          all of it from nothing, every fault scenario, then the TLS variant
#                             and its certificate rotation, teardown
# TLS=1 on docker-cluster and docker-test: the TLS variant
# (deploy/compose/compose.tls.yaml over compose.yaml), with the certificates of
# $(COMPOSE_CERTS) made by `grpc-lb certs` when missing. docker-down, docker-doctor and the
# compose scenarios find out from the running cluster which variant it is.

# official: node:20.20.2-bookworm-slim and envoyproxy/envoy:v1.40.0 from the registry (users with
# Docker); standin: grpc-lb-standin/* built by `make docker-images` (no registry needed).
IMAGES      ?= official
ENVOY_PORT  ?= 10000
STANDIN_NODE_IMAGE  := grpc-lb-standin/node:20.20.2
STANDIN_ENVOY_IMAGE := grpc-lb-standin/envoy:$(ENVOY_VERSION)
# The TLS variant: the override file, its certificates, and the group of their keys, which
# Envoy and the servers join (compose.tls.yaml says why).
TLS           ?=
COMPOSE_CERTS ?= .tools/compose-certs
# docker-down stops either variant with compose.yaml alone: the override adds no service,
# and its variables (CERTS_GID) are then not needed.
COMPOSE_PLAIN := $(COMPOSE)
ifeq ($(TLS),1)
COMPOSE       += -f deploy/compose/compose.tls.yaml
# GNU stat, else BSD's (macOS).
COMPOSE_CERTS_GID = $(shell stat -c %g $(COMPOSE_CERTS)/current/ca.key 2>/dev/null || stat -f %g $(COMPOSE_CERTS)/current/ca.key)
COMPOSE_TLS_ENV = CERTS_DIR=$(abspath $(COMPOSE_CERTS)) CERTS_GID=$(COMPOSE_CERTS_GID)
COMPOSE_TLS_DEPS := compose-certs
else ifneq ($(TLS),)
$(error TLS must be 1 or empty, not '$(TLS)')
endif

ifeq ($(IMAGES),standin)
COMPOSE_ENV := NODE_IMAGE=$(STANDIN_NODE_IMAGE) ENVOY_IMAGE=$(STANDIN_ENVOY_IMAGE) ENVOY_PORT=$(ENVOY_PORT)
else ifeq ($(IMAGES),official)
COMPOSE_ENV := ENVOY_PORT=$(ENVOY_PORT)
else
$(error IMAGES must be 'official' or 'standin', not '$(IMAGES)')
endif

# Read when a recipe runs, after compose-certs: CERTS_GID is the group of keys made just before.
COMPOSE_RUN_ENV = $(strip $(COMPOSE_ENV) $(COMPOSE_TLS_ENV))

.PHONY: docker-engine docker-engine-down docker-images compose-scenarios docker-doctor e2e-compose \
	compose-certs compose-cert-rotation

docker-engine: ## a Docker engine with Compose v2: the one that answers, or install+start one (see docs/compose.md)
	scripts/docker/engine-up.sh

docker-engine-down: ## stop only what `make docker-engine` started (recorded in .tools/docker-engine/)
	scripts/docker/engine-down.sh

docker-images: envoy ## stand-in node/envoy base images and the server image, with no registry
	scripts/docker/images.sh

docker-image: ## build the server image grpc-envoy-lb:0.1.0 (for Kubernetes; see docs/kubernetes.md)
	docker build $(if $(filter standin,$(IMAGES)),--build-arg NODE_IMAGE=$(STANDIN_NODE_IMAGE)) -t grpc-envoy-lb:0.1.0 .

docker-cluster: $(COMPOSE_TLS_DEPS) ## Docker Compose: build the image, start 3 servers and Envoy (listener on 127.0.0.1:$(ENVOY_PORT)); TLS=1: over TLS
	$(COMPOSE_RUN_ENV) $(COMPOSE) up -d --build --wait
	$(COMPOSE_RUN_ENV) scripts/docker/wait-envoy.sh deploy/compose/compose.yaml

docker-test: ## Docker Compose: run the client (100 calls through Envoy) and print the distribution; TLS=1: over TLS
	$(COMPOSE_RUN_ENV) $(COMPOSE) run --rm client

docker-down: ## Docker Compose: stop and remove everything (either variant)
	$(COMPOSE_ENV) $(COMPOSE_PLAIN) --profile client down --remove-orphans --volumes

docker-doctor: build ## Docker Compose: grpc-lb doctor on the cluster's Envoy, with live calls through its listener (over TLS on the TLS variant)
	$(GRPC_LB) compose doctor --port $(ENVOY_PORT)

# The set one server certificate shared by every replica: the name `server` is what Envoy
# resolves, sends as SNI and checks (deploy/compose/tls/envoy.yaml).
compose-certs: build ## certificates for the Compose TLS variant in $(COMPOSE_CERTS), when missing
	@if [ -L $(COMPOSE_CERTS)/current ]; then echo "compose-certs: $(COMPOSE_CERTS) already holds a set"; else \
	  $(GRPC_LB) certs --out $(COMPOSE_CERTS) --server-name server --shared-name server --group-readable-keys; fi

compose-cert-rotation: build ## rotate every certificate of the running TLS cluster under load (docker-cluster TLS=1 first)
	$(GRPC_LB) compose scenario cert-rotation --port $(ENVOY_PORT)

compose-scenarios: build ## every Compose fault scenario against the running cluster (docker-cluster first)
	$(GRPC_LB) compose scenario all --port $(ENVOY_PORT)

e2e-compose: setup ## from nothing: engine, images, cluster, 33/33/34, every fault scenario, teardown
	scripts/docker/e2e.sh
