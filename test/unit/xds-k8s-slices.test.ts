import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { packageRoot } from "../../src/paths.js";
import {
  type EndpointSlice,
  endpointsOfSlices,
  sliceEndpointHealth,
} from "../../src/xds/k8s-source-slices.js";

/** A recorded EndpointSlice list of test/k8s-samples/ (SOURCES.md there says how each was made). */
const recorded = (name: string): EndpointSlice[] =>
  (
    JSON.parse(readFileSync(join(packageRoot, "test", "k8s-samples", `${name}.json`), "utf8")) as {
      items: EndpointSlice[];
    }
  ).items;

const view = (slices: EndpointSlice[], portName = "grpc") =>
  endpointsOfSlices(slices, portName)
    .map((e) => `${e.address}:${e.port} ${e.health}`)
    .sort();

const slice = (over: Partial<EndpointSlice>): EndpointSlice => ({
  metadata: { name: "s" },
  addressType: "IPv4",
  ports: [{ name: "grpc", port: 50051, protocol: "TCP" }],
  endpoints: [],
  ...over,
});

describe("EndpointSlices → xDS endpoints", () => {
  it("a steady Service: every ready pod HEALTHY on the port named grpc", () => {
    assert.deepEqual(view(recorded("endpointslices-steady")), [
      "10.244.0.3:50051 HEALTHY",
      "10.244.0.4:50051 HEALTHY",
      "10.244.0.5:50051 HEALTHY",
    ]);
  });

  it("during a rollout: serving and terminating → DRAINING, a pod not yet ready is left out", () => {
    assert.deepEqual(view(recorded("endpointslices-rollout")), [
      "10.244.0.11:50051 HEALTHY",
      "10.244.0.3:50051 DRAINING",
      "10.244.0.4:50051 HEALTHY",
      "10.244.0.5:50051 HEALTHY",
    ]);
  });

  it("reads each condition as the API defines it, a missing one included", () => {
    const cases: [NonNullable<Parameters<typeof sliceEndpointHealth>[0]>, string | undefined][] = [
      [{ ready: true, serving: true, terminating: false }, "HEALTHY"],
      [{}, "HEALTHY"], // nil ready: unknown, read as ready
      [{ ready: null, serving: null, terminating: null }, "HEALTHY"],
      [{ ready: false, serving: true, terminating: true }, "DRAINING"],
      [{ ready: false, terminating: true }, undefined], // serving falls back to ready: false
      [{ ready: false, serving: false, terminating: true }, undefined],
      [{ ready: false, serving: false, terminating: false }, undefined], // starting
      [{ ready: false, serving: true, terminating: false }, undefined], // not ready, not going
    ];
    for (const [conditions, want] of cases)
      assert.equal(sliceEndpointHealth(conditions), want, JSON.stringify(conditions));
    assert.equal(sliceEndpointHealth(undefined), "HEALTHY");
  });

  it("skips FQDN slices, other ports and names; one address in two slices counts once, at its best", () => {
    const ep = (address: string, terminating: boolean) => ({
      addresses: [address],
      conditions: { ready: !terminating, serving: true, terminating },
    });
    const slices = [
      slice({ addressType: "FQDN", endpoints: [{ addresses: ["server-0.example"] }] }),
      slice({ metadata: { name: "a" }, endpoints: [ep("10.0.0.1", true), ep("10.0.0.2", false)] }),
      slice({ metadata: { name: "b" }, endpoints: [ep("10.0.0.1", false), { addresses: ["not-an-ip"] }] }),
      slice({ ports: [{ name: "metrics", port: 9464 }], endpoints: [ep("10.0.0.9", false)] }),
      slice({ addressType: "IPv6", endpoints: [ep("fd00::1", false)] }),
    ];
    assert.deepEqual(view(slices), [
      "10.0.0.1:50051 HEALTHY",
      "10.0.0.2:50051 HEALTHY",
      "fd00::1:50051 HEALTHY",
    ]);
    // "" takes a slice's only port, whatever its name; a UDP port is not gRPC's.
    assert.deepEqual(view([slice({ ports: [{ port: 8080 }], endpoints: [ep("10.0.0.3", false)] })], ""), [
      "10.0.0.3:8080 HEALTHY",
    ]);
    assert.deepEqual(
      view([
        slice({ ports: [{ name: "grpc", port: 53, protocol: "UDP" }], endpoints: [ep("10.0.0.4", false)] }),
      ]),
      [],
    );
  });
});
