# Kubernetes: the seed's targets against the current kubectl context.
# Included by the Makefile.

# Kubernetes: the current kubectl context; the image must already be on the nodes (README).
k8s-cluster: ## Kubernetes: apply deploy/k8s/base (headless server Service) and wait for the rollouts
	@# clusterIP cannot change in place: replace the Service if the clusterip overlay gave it one.
	@ip=$$($(KUBECTL) -n $(K8S_NS) get service server -o jsonpath='{.spec.clusterIP}' 2>/dev/null || true); \
	if [ -n "$$ip" ] && [ "$$ip" != "None" ]; then $(KUBECTL) -n $(K8S_NS) delete service server; fi
	$(KUBECTL) apply -k deploy/k8s/base
	$(KUBECTL) -n $(K8S_NS) rollout status deployment/server --timeout=120s
	$(KUBECTL) -n $(K8S_NS) rollout status deployment/envoy --timeout=120s

k8s-export: ## Kubernetes: forward 127.0.0.1:10000 to the envoy Service, until Ctrl-C
	$(KUBECTL) -n $(K8S_NS) port-forward svc/envoy 10000:10000

k8s-test: build ## Kubernetes: 100 calls through the forwarded port (run k8s-export in another terminal)
	$(GRPC_LB) load --target 127.0.0.1:10000 --requests 100

k8s-load: ## Kubernetes: run the client as a Job inside the cluster and print its report
	$(KUBECTL) -n $(K8S_NS) delete job load --ignore-not-found
	$(KUBECTL) apply -k deploy/k8s/client
	@$(KUBECTL) -n $(K8S_NS) wait --for=condition=complete job/load --timeout=120s; rc=$$?; \
	$(KUBECTL) -n $(K8S_NS) logs job/load; exit $$rc

k8s-compare: ## Kubernetes: switch the server Service to a cluster IP (L4), restart Envoy, load again
	$(KUBECTL) -n $(K8S_NS) delete service server --ignore-not-found
	$(KUBECTL) apply -k deploy/k8s/overlays/clusterip
	$(KUBECTL) -n $(K8S_NS) rollout restart deployment/envoy
	$(KUBECTL) -n $(K8S_NS) rollout status deployment/envoy --timeout=120s
	$(MAKE) --no-print-directory k8s-load

k8s-down: ## Kubernetes: delete the grpc-lb namespace and everything in it
	$(KUBECTL) delete namespace $(K8S_NS) --ignore-not-found
