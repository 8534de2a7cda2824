# Docker: the image, the seed's Compose targets.
# Included by the Makefile; variables such as COMPOSE come from there.

# Docker Compose: needs a Docker engine with the compose plugin.
docker-image: ## build the server image grpc-envoy-lb:0.1.0 (for Kubernetes; see README)
	docker build -t grpc-envoy-lb:0.1.0 .

docker-cluster: ## Docker Compose: build the image, start 3 servers and Envoy (listener on 127.0.0.1:10000)
	$(COMPOSE) up -d --build

docker-test: ## Docker Compose: run the client (100 calls through Envoy) and print the distribution
	$(COMPOSE) run --rm client

docker-down: ## Docker Compose: stop and remove everything
	$(COMPOSE) --profile client down --remove-orphans
