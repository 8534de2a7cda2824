import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PeerError } from "../../src/errors.js";
import { peerNotFoundMessage } from "../../src/peers/binary.js";
import { PEER_DRIVERS } from "../../src/peers/drivers.js";
import { buildHaproxyConfig } from "../../src/peers/haproxy/config.js";
import { renderHaproxyConfig } from "../../src/peers/haproxy/render.js";
import { parseShowStat } from "../../src/peers/haproxy/stats.js";
import type { HaproxyConfig, HaproxySectionKind } from "../../src/peers/haproxy/types.js";
import { peerLabConflicts } from "../../src/peers/lab-run.js";
import { buildNginxConfig } from "../../src/peers/nginx/config.js";
import { renderNginxConfig } from "../../src/peers/nginx/render.js";
import type { NginxDirective } from "../../src/peers/nginx/types.js";
import { type PeerConfigOptions, resolvePeerConfig } from "../../src/peers/options.js";

const BASE: PeerConfigOptions = {
  listenPort: 18080,
  serverPort: 50051,
  dns: { host: "127.0.0.1", port: 5353 },
  addresses: ["127.77.0.1", "127.77.0.2", "127.77.0.3"],
  workDir: "/tmp/peer-test",
};

/** The argument lists of every line with this keyword in the section of this kind. */
function lines(c: HaproxyConfig, kind: HaproxySectionKind, keyword: string): string[][] {
  return c.sections
    .filter((s) => s.kind === kind)
    .flatMap((s) => s.lines.filter((l) => l.keyword === keyword).map((l) => l.args.map(String)));
}

/** Every directive named `name`, at any depth. */
function find(ds: readonly NginxDirective[], name: string): NginxDirective[] {
  return ds.flatMap((d) => [...(d.name === name ? [d] : []), ...find(d.block ?? [], name)]);
}

describe("peer options", () => {
  it("fills every default once, and keeps what was given over them", () => {
    const r = resolvePeerConfig({ ...BASE, retries: 5, workers: undefined });
    assert.equal(r.retries, 5);
    assert.equal(r.workers, 2);
    assert.equal(r.listenAddress, "127.0.0.1");
    assert.equal(r.serverName, "server");
  });
});

describe("the HAProxy builder", () => {
  const c = buildHaproxyConfig(resolvePeerConfig({ ...BASE, slots: 8, retries: 3 }));

  it("listens for HTTP/2 cleartext on the loopback port given", () => {
    assert.deepEqual(lines(c, "frontend", "bind"), [["127.0.0.1:18080", "proto", "h2"]]);
    assert.deepEqual(lines(c, "defaults", "mode"), [["http"]]);
  });

  it("discovers the servers through the lab's DNS with a server-template, never the system resolver", () => {
    assert.deepEqual(lines(c, "resolvers", "nameserver"), [["lab", "127.0.0.1:5353"]]);
    assert.deepEqual(lines(c, "resolvers", "parse-resolv-conf"), []);
    assert.deepEqual(lines(c, "backend", "server-template"), [["srv", "1-8", "server:50051"]]);
    const server = lines(c, "backend", "default-server")[0] ?? [];
    for (const [k, v] of [
      ["resolvers", "lab"],
      ["proto", "h2"],
      ["init-addr", "none"],
      ["inter", "1000ms"],
      ["observe", "layer7"],
    ])
      assert.equal(server[server.indexOf(k as string) + 1], v, `${k} ${v} in ${server.join(" ")}`);
    assert.ok(server.includes("check"));
  });

  it("balances per call by round robin and retries on another server as Envoy's reset does", () => {
    assert.deepEqual(lines(c, "backend", "balance"), [["roundrobin"]]);
    assert.deepEqual(lines(c, "backend", "retries"), [["3"]]);
    assert.deepEqual(lines(c, "backend", "retry-on"), [
      ["conn-failure", "empty-response", "response-timeout"],
    ]);
    assert.deepEqual(lines(c, "backend", "option"), [["redispatch", "1"]]);
  });

  it("with retryAfterSend off, retries only calls that never reached a server", () => {
    const strict = buildHaproxyConfig(resolvePeerConfig({ ...BASE, retryAfterSend: false }));
    assert.deepEqual(lines(strict, "backend", "retry-on"), [["conn-failure"]]);
  });

  it("keeps its pid file and stats socket in its work directory, and sets every timeout", () => {
    assert.deepEqual(lines(c, "global", "pidfile"), [["/tmp/peer-test/haproxy.pid"]]);
    assert.equal(lines(c, "global", "stats")[0]?.[1], "/tmp/peer-test/haproxy.sock");
    const timeouts = lines(c, "defaults", "timeout").map((t) => t[0]);
    assert.deepEqual(timeouts, ["connect", "client", "server", "check", "http-keep-alive"]);
  });

  it("renders sections with their names, comments, and quotes an argument with a space", () => {
    const text = renderHaproxyConfig(
      { sections: [{ kind: "frontend", name: "f", lines: [{ keyword: "x", args: ["a b", 1], why: "w" }] }] },
      "head",
    );
    assert.equal(text, '# head\n\nfrontend f\n  # w\n  x "a b" 1\n');
  });
});

describe("the nginx builder", () => {
  const r = resolvePeerConfig({ ...BASE, retries: 2, maxFails: 2, failTimeoutS: 7 });
  const c = buildNginxConfig(r);

  it("listens for HTTP/2 cleartext and passes every call to the upstream by grpc_pass", () => {
    assert.deepEqual(find(c.directives, "listen")[0]?.args, ["127.0.0.1:18080", "http2"]);
    assert.deepEqual(find(c.directives, "grpc_pass")[0]?.args, ["grpc://servers"]);
  });

  it("lists every address DNS gave at start, with passive health and kept connections", () => {
    const upstream = find(c.directives, "upstream")[0];
    assert.deepEqual(upstream?.args, ["servers"]);
    assert.deepEqual(
      find(upstream?.block ?? [], "server").map((d) => d.args),
      BASE.addresses?.map((a) => [`${a}:50051`, "max_fails=2", "fail_timeout=7s"]),
    );
    assert.deepEqual(find(upstream?.block ?? [], "keepalive")[0]?.args, [16]);
    // nginx 1.22 would resolve a name with the system resolver: the builder never writes one.
    assert.deepEqual(find(c.directives, "resolver"), []);
  });

  it("retries on the next server calls not yet sent, at most retries + 1 tries", () => {
    assert.deepEqual(find(c.directives, "grpc_next_upstream")[0]?.args, ["error", "timeout"]);
    assert.deepEqual(find(c.directives, "grpc_next_upstream_tries")[0]?.args, [3]);
  });

  it("runs in the foreground with its pid file, logs and temp paths in its work directory", () => {
    assert.deepEqual(find(c.directives, "daemon")[0]?.args, ["off"]);
    for (const name of ["pid", "error_log", "access_log", "client_body_temp_path", "proxy_temp_path"])
      assert.match(String(find(c.directives, name)[0]?.args[0]), /^\/tmp\/peer-test\//, name);
  });

  it("refuses to build with no address: its upstream is fixed at start", () => {
    assert.throws(() => buildNginxConfig({ ...r, addresses: [] }), PeerError);
  });

  it("renders blocks with braces and directives with semicolons", () => {
    const text = renderNginxConfig({
      directives: [{ name: "http", args: [], block: [{ name: "a", args: ["x y"], why: "w" }] }],
    });
    assert.equal(text, 'http {\n  # w\n  a "x y";\n}\n');
  });
});

describe("peers in the lab", () => {
  it("names the lab flags that shape Envoy and cannot apply to a peer", () => {
    assert.deepEqual(peerLabConflicts({ servers: 3 }), []);
    assert.deepEqual(
      peerLabConflicts({ envoys: 2, tls: "tls", topology: "clusterip", envoy: { policy: "random" } }),
      ["--envoys", "--tls", "--discovery", "--policy"],
    );
  });

  it("says how to install a missing peer: the make target and when it may install", () => {
    for (const driver of Object.values(PEER_DRIVERS)) {
      const m = peerNotFoundMessage(driver);
      assert.match(m, /make peers/);
      assert.match(m, /CI=true or GRPC_LB_ALLOW_INSTALL=1/);
      assert.match(m, new RegExp(`apt-get install ${driver.debianPackage}`));
    }
  });
});

describe("HAProxy's show stat", () => {
  it("reads columns by the header's names, whatever their order", () => {
    const rows = parseShowStat(
      "# pxname,svname,stot,status,addr\nservers,srv1,34,UP,127.77.0.1:5\nservers,srv2,0,MAINT (resolution),\n",
    );
    assert.deepEqual(rows[0], {
      pxname: "servers",
      svname: "srv1",
      stot: "34",
      status: "UP",
      addr: "127.77.0.1:5",
    });
    assert.equal(rows[1]?.status, "MAINT (resolution)");
    assert.equal(rows[1]?.addr, "");
  });
});
