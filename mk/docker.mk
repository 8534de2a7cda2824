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
#   make e2e-compose          all of it from nothing, every fault scenario, teardown

# official: node:20.20.2-bookworm-slim and envoyproxy/envoy:v1.40.0 from the registry (users with
# Docker); standin: grpc-lb-standin/* built by `make docker-images` (no registry needed).
IMAGES      ?= official
ENVOY_PORT  ?= 10000
STANDIN_NODE_IMAGE  := grpc-lb-standin/node:20.20.2
STANDIN_ENVOY_IMAGE := grpc-lb-standin/envoy:$(ENVOY_VERSION)
ifeq ($(IMAGES),standin)
COMPOSE_ENV := NODE_IMAGE=$(STANDIN_NODE_IMAGE) ENVOY_IMAGE=$(STANDIN_ENVOY_IMAGE) ENVOY_PORT=$(ENVOY_PORT)
else ifeq ($(IMAGES),official)
COMPOSE_ENV := ENVOY_PORT=$(ENVOY_PORT)
else
$(error IMAGES must be 'official' or 'standin', not '$(IMAGES)')
endif

.PHONY: docker-engine docker-engine-down docker-images compose-scenarios docker-doctor e2e-compose

docker-engine: ## a Docker engine with Compose v2: the one that answers, or install+start one (see docs/compose.md)
	scripts/docker/engine-up.sh

docker-engine-down: ## stop only what `make docker-engine` started (recorded in .tools/docker-engine/)
	scripts/docker/engine-down.sh

docker-images: envoy ## stand-in node/envoy base images and the server image, with no registry
	scripts/docker/images.sh

docker-image: ## build the server image grpc-envoy-lb:0.1.0 (for Kubernetes; see docs/kubernetes.md)
	docker build $(if $(filter standin,$(IMAGES)),--build-arg NODE_IMAGE=$(STANDIN_NODE_IMAGE)) -t grpc-envoy-lb:0.1.0 .

docker-cluster: ## Docker Compose: build the image, start 3 servers and Envoy (listener on 127.0.0.1:$(ENVOY_PORT))
	$(COMPOSE_ENV) $(COMPOSE) up -d --build --wait
	$(COMPOSE_ENV) scripts/docker/wait-envoy.sh deploy/compose/compose.yaml

docker-test: ## Docker Compose: run the client (100 calls through Envoy) and print the distribution
	$(COMPOSE_ENV) $(COMPOSE) run --rm client

docker-down: ## Docker Compose: stop and remove everything
	$(COMPOSE_ENV) $(COMPOSE) --profile client down --remove-orphans --volumes

docker-doctor: build ## Docker Compose: grpc-lb doctor on the cluster's Envoy, with live calls through its listener
	$(GRPC_LB) compose doctor --port $(ENVOY_PORT)

compose-scenarios: build ## every Compose fault scenario against the running cluster (docker-cluster first)
	$(GRPC_LB) compose scenario all --port $(ENVOY_PORT)

e2e-compose: setup ## from nothing: engine, images, cluster, 33/33/34, every fault scenario, teardown
	scripts/docker/e2e.sh
