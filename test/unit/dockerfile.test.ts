import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { packageRoot } from "../../src/paths.js";

// No Docker engine runs the build in the tests; these check what a build would trip over.
const dockerfile = readFileSync(join(packageRoot, "Dockerfile"), "utf8");
const ignored = readFileSync(join(packageRoot, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));

/** How both stages name their base image: one ARG, so the two can never differ. */
const FROM_BASE = "FROM $" + "{NODE_IMAGE}";

describe("Dockerfile", () => {
  it("copies only files that exist and that .dockerignore lets into the context", () => {
    const copies = instructions.filter((l) => /^COPY /.test(l) && !/--from=/.test(l));
    assert.ok(copies.length > 0);
    for (const copy of copies) {
      const sources = copy.split(/\s+/).slice(1, -1);
      for (const source of sources) {
        assert.ok(existsSync(join(packageRoot, source)), `${copy}: ${source} does not exist`);
        assert.ok(!ignored.includes(source), `${copy}: ${source} is in .dockerignore`);
      }
    }
  });

  it("needs no registry for the build itself: no syntax line that fetches a frontend image", () => {
    assert.doesNotMatch(dockerfile, /^#\s*syntax\s*=/im);
  });

  it("keeps build output, dependencies and local tools out of the context", () => {
    for (const entry of ["node_modules", "dist", ".tools", ".git", "src/generated"]) {
      assert.ok(ignored.includes(entry), entry);
    }
  });

  it("builds on a pinned Node 20 bookworm-slim image, in two stages", () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    assert.match(base ?? "", /^node:20\.\d+\.\d+-bookworm-slim$/);
    const stages = instructions.filter((l) => l.startsWith("FROM "));
    assert.deepEqual(stages, [`${FROM_BASE} AS build`, FROM_BASE]);
  });

  it("ships production dependencies only and runs as a non-root user", () => {
    const final = instructions.slice(instructions.lastIndexOf(FROM_BASE));
    assert.ok(final.some((l) => /^RUN npm ci --omit=dev\b/.test(l)));
    assert.ok(final.some((l) => l === "COPY --from=build /app/dist/src ./dist/src"));
    const user = final.find((l) => l.startsWith("USER "))?.split(/\s+/)[1] ?? "";
    // Numeric, so Kubernetes' runAsNonRoot can verify it.
    assert.match(user, /^[1-9]\d*:[1-9]\d*$/);
    assert.equal(final.at(-1), 'CMD ["grpc-lb", "serve", "--host", "0.0.0.0", "--port", "50051"]');
  });
});
