"""Health Check calls with Python grpcio (gRPC C-core) over TLS, by generic invocation.

C-core refuses a TLS peer that negotiated no ALPN, which grpc-js does not check: this
client is how the tests see what strict clients see. No generated code: the request and
reply are encoded by hand (HealthCheckRequest{service: ""} is empty; SERVING is 08 01).

Usage: grpcio_health_client.py TARGET CA_FILE SERVER_NAME CALLS
Prints one JSON line: {"grpcio": version, "ok": n, "failed": n, "errors": {...}}.
"""

import json
import sys

import grpc

SERVING = b"\x08\x01"


def main() -> int:
    target, ca_file, server_name, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(ca_file, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    options = [("grpc.ssl_target_name_override", server_name), ("grpc.default_authority", server_name)]
    ok, errors = 0, {}
    with grpc.secure_channel(target, credentials, options=options) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        for _ in range(calls):
            try:
                reply = check(b"", timeout=5)
                if reply == SERVING:
                    ok += 1
                else:
                    errors[f"reply {reply.hex()}"] = errors.get(f"reply {reply.hex()}", 0) + 1
            except grpc.RpcError as e:
                key = f"{e.code().name}: {e.details()}"
                errors[key] = errors.get(key, 0) + 1
    failed = calls - ok
    print(json.dumps({"grpcio": grpc.__version__, "ok": ok, "failed": failed, "errors": errors}))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
