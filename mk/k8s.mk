# Kubernetes: the seed's targets against the current kubectl context, or against
# the throwaway local cluster (make k8s-local-up) when .tools/k8s-local/kubeconfig
# exists: then KUBECONFIG points there and Envoy comes from the stand-in image.
# Included by the Makefile.

K8S_PORT      ?= 10000
K8S_LOCAL     := scripts/k8s-local
K8S_KUBECTL   := $(K8S_LOCAL)/kubectl.sh
K8S_DIR        = $$($(K8S_LOCAL)/kustomize-dir.sh $(1))
# TLS=1: k8s-cluster applies the tls overlay (TLS on Envoy's listener, mutual TLS to the
# servers) with its Secrets, k8s-load runs the client Job over TLS.
TLS           ?=
K8S_CERTS     := .tools/k8s-certs
# DISCOVERY=xds: k8s-cluster applies the xds overlay (Envoy fed by EDS over ADS from grpc-lb
# xds-server, which watches the server Service's EndpointSlices) instead of DNS.
DISCOVERY     ?= dns
ifeq ($(filter $(DISCOVERY),dns xds),)
$(error DISCOVERY must be dns or xds, not '$(DISCOVERY)')
endif
ifeq ($(DISCOVERY)$(TLS),xds1)
$(error DISCOVERY=xds has no TLS variant yet: use one or the other)
endif
K8S_LAYOUT     = $(if $(filter 1,$(TLS)),tls,$(if $(filter xds,$(DISCOVERY)),xds,headless))
K8S_CLIENT     = $(if $(filter 1,$(TLS)),deploy/k8s/client-tls,deploy/k8s/client)
# The stand-in Envoy image is tagged with the Makefile's ENVOY_VERSION; the scripts read it from here.
export ENVOY_VERSION

.PHONY: k8s-local-up k8s-local-down k8s-local-images k8s-local-build k8s-scenarios k8s-doctor e2e-k8s \
	k8s-tls-secrets k8s-mtls-refusal

k8s-local-build: ## Kubernetes: build Kubernetes v1.34.3 and CoreDNS from the Go module proxy into .tools/
	$(K8S_LOCAL)/build.sh all

k8s-local-up: ## Kubernetes: start a throwaway single-node cluster here (Linux, root, CI=true or GRPC_LB_ALLOW_INSTALL=1)
	$(K8S_LOCAL)/up.sh
	@if docker info >/dev/null 2>&1 && docker image inspect grpc-envoy-lb:0.1.0 grpc-lb-standin/envoy:$(ENVOY_VERSION) >/dev/null 2>&1; \
	then $(K8S_LOCAL)/load-images.sh; \
	else echo "k8s-local: the images are not in a Docker engine yet; after make docker-images run make k8s-local-images"; fi

k8s-local-images: ## Kubernetes: load grpc-envoy-lb:0.1.0 and the stand-in Envoy image into the local cluster
	$(K8S_LOCAL)/load-images.sh

k8s-local-down: ## Kubernetes: remove the local cluster and everything it made
	$(K8S_LOCAL)/down.sh

k8s-cluster: build $(if $(filter 1,$(TLS)),k8s-tls-secrets) ## Kubernetes: apply deploy/k8s/base (headless server Service; TLS=1: overlays/tls; DISCOVERY=xds: overlays/xds), wait for the rollouts and for Envoy to see every pod
	@# clusterIP cannot change in place: replace the Service if the clusterip overlay gave it one.
	@ip=$$($(K8S_KUBECTL) -n $(K8S_NS) get service server -o jsonpath='{.spec.clusterIP}' 2>/dev/null || true); \
	if [ -n "$$ip" ] && [ "$$ip" != "None" ]; then $(K8S_KUBECTL) -n $(K8S_NS) delete service server; fi
	@# Envoy reads its ConfigMap once: a changed one (DNS ↔ xDS) restarts the Envoy pods.
	@out=$$($(K8S_KUBECTL) apply -k $(call K8S_DIR,$(K8S_LAYOUT))) || exit 1; echo "$$out"; \
	if grep -q '^configmap/envoy configured' <<<"$$out"; then $(K8S_KUBECTL) -n $(K8S_NS) rollout restart deployment/envoy; fi
	@# Back to DNS: the xDS server of an earlier DISCOVERY=xds has nobody to serve.
	@if [ "$(DISCOVERY)" = dns ]; then $(K8S_KUBECTL) -n $(K8S_NS) delete deployment/xds-server service/xds pdb/xds-server rolebinding/xds-server role/xds-server serviceaccount/xds-server --ignore-not-found; fi
	$(K8S_KUBECTL) -n $(K8S_NS) rollout status deployment/server --timeout=120s
	$(if $(filter xds,$(DISCOVERY)),$(K8S_KUBECTL) -n $(K8S_NS) rollout status deployment/xds-server --timeout=120s)
	$(K8S_KUBECTL) -n $(K8S_NS) rollout status deployment/envoy --timeout=120s
	@# After a switch back from the clusterip overlay Envoy still holds the cluster IP until it re-resolves.
	$(GRPC_LB) k8s envoy-hosts --namespace $(K8S_NS) --wait-ms 60000

k8s-tls-secrets: build ## Kubernetes: make a certificate set in .tools/k8s-certs (once) and put it in the Secrets envoy-tls, server-tls and the ConfigMap grpc-lb-ca
	@if [ ! -L $(K8S_CERTS)/current ]; then \
	  $(GRPC_LB) certs --out $(K8S_CERTS) --server-name server --shared-name server --k8s-namespace $(K8S_NS); fi
	$(GRPC_LB) k8s secrets --certs $(K8S_CERTS) --namespace $(K8S_NS)

k8s-mtls-refusal: build ## Kubernetes (TLS=1 deployment): from a pod of its own, a client without Envoy's certificate is refused by every server pod
	$(GRPC_LB) k8s mtls-refusal --namespace $(K8S_NS)

k8s-export: ## Kubernetes: forward 127.0.0.1:K8S_PORT (default 10000) to the envoy Service, until Ctrl-C
	$(K8S_KUBECTL) -n $(K8S_NS) port-forward svc/envoy $(K8S_PORT):10000

k8s-test: build ## Kubernetes: 100 calls through the forwarded port (run k8s-export in another terminal)
	$(GRPC_LB) load --target 127.0.0.1:$(K8S_PORT) --requests 100

k8s-load: ## Kubernetes: run the client as a Job inside the cluster and print its report (TLS=1: over TLS)
	$(K8S_KUBECTL) -n $(K8S_NS) delete job load --ignore-not-found
	$(K8S_KUBECTL) apply -k $(K8S_CLIENT)
	@$(K8S_KUBECTL) -n $(K8S_NS) wait --for=condition=complete job/load --timeout=120s; rc=$$?; \
	$(K8S_KUBECTL) -n $(K8S_NS) logs job/load; exit $$rc

k8s-compare: build ## Kubernetes: switch the server Service to a cluster IP (L4), restart Envoy, load again
	$(K8S_KUBECTL) -n $(K8S_NS) delete service server --ignore-not-found
	$(K8S_KUBECTL) apply -k $(call K8S_DIR,clusterip)
	$(K8S_KUBECTL) -n $(K8S_NS) rollout restart deployment/envoy
	$(K8S_KUBECTL) -n $(K8S_NS) rollout status deployment/envoy --timeout=120s
	@# Cluster DNS may answer from its cache (one TTL) with the pods' IPs: wait for the cluster IP.
	$(GRPC_LB) k8s envoy-hosts --namespace $(K8S_NS) --wait-ms 60000
	$(MAKE) --no-print-directory k8s-load

k8s-down: ## Kubernetes: delete the grpc-lb namespace and everything in it
	$(K8S_KUBECTL) delete namespace $(K8S_NS) --ignore-not-found

k8s-doctor: build ## Kubernetes: grpc-lb doctor on every Envoy pod, with live calls through each
	$(GRPC_LB) k8s doctor --namespace $(K8S_NS)

k8s-scenarios: build ## Kubernetes: every day-two scenario under load (servers, the Envoy tier, long-lived streams; DISCOVERY=xds: and the loss of an xDS replica)
	@rc=0; for s in rollout scale delete-pod envoy-restart envoy-delete-pod envoy-scale streams $(if $(filter xds,$(DISCOVERY)),xds-delete-pod); do $(GRPC_LB) k8s scenario $$s || rc=1; done; exit $$rc

e2e-k8s: ## Kubernetes end to end: engine, images, local cluster, every check, teardown (CI=true or GRPC_LB_ALLOW_INSTALL=1)
	$(K8S_LOCAL)/e2e.sh
