# HAProxy and nginx, the balancing layers measured beside Envoy (`grpc-lb lab --proxy`), from
# Debian's packages. Installed with apt-get only where allowed (CI=true or GRPC_LB_ALLOW_INSTALL=1,
# as root); their system services are never started. Otherwise this says what is missing, and
# the peers' tests skip with that reason.
.PHONY: peers

peers: ## install HAProxy and nginx (Debian's haproxy, nginx-light) for lab --proxy; CI=true or GRPC_LB_ALLOW_INSTALL=1, root
	@bash scripts/peers/install.sh
