import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { packageRoot } from "../src/paths.js";

/** The offline validators of deploy/ the tests run, and where they come from. */
export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion (60 s at most) from the repository root; never throws for a non-zero exit. */
export function runTool(
  binary: string,
  args: string[],
  cwd = packageRoot,
  env: Record<string, string> = {},
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const options = { cwd, timeout: 60_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } };
    execFile(binary, args, options, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== "number") {
        reject(new Error(`cannot run ${binary} ${args.join(" ")}: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
    });
  });
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A tool `make test-tools` installs under .tools/bin; a clear error when it is not there. */
function projectTool(name: string): string {
  const path = join(packageRoot, ".tools", "bin", name);
  if (!executable(path)) {
    throw new Error(`${name} not found at ${path}: run 'make test-tools' (make test does it first)`);
  }
  return path;
}

/** compose-go's checker: the Compose Specification loader and schema Docker Compose itself uses. */
export const composeSpecBin = (): string => projectTool("compose-spec");

/** kubernetes-validate: Kubernetes' OpenAPI-derived JSON schemas, bundled, so it works offline. */
export const kubernetesValidateBin = (): string => projectTool("kubernetes-validate");

/** grpcurl: a stock gRPC client that learns the API from server reflection, with no .proto file. */
export const grpcurlBin = (): string => projectTool("grpcurl");

/** The oldest Kubernetes the manifests need (the native gRPC probe is GA in 1.27), and the newest schemas at hand. */
export const KUBERNETES_VERSIONS = ["1.27.0", "1.37.0"];

/** kubectl on PATH, whose embedded kustomize renders deploy/k8s/. */
export function kubectlBin(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && executable(join(dir, "kubectl"))) return join(dir, "kubectl");
  }
  throw new Error(
    "kubectl not found on PATH: the Kubernetes tests render deploy/k8s/ with 'kubectl kustomize' " +
      "(kubectl 1.27 or later; no cluster needed)",
  );
}

/** One Kubernetes object, loosely typed: tests read it by path. */
// biome-ignore lint/suspicious/noExplicitAny: manifests are checked against schemas, not TypeScript types
export type Manifest = Record<string, any>;

/** Renders a kustomize directory (relative to the repository root) into its objects and the raw YAML. */
export async function kustomize(dir: string): Promise<{ yaml: string; objects: Manifest[] }> {
  const run = await runTool(kubectlBin(), ["kustomize", dir]);
  if (run.code !== 0) throw new Error(`kubectl kustomize ${dir} failed (exit ${run.code}): ${run.stderr}`);
  const docs = parseAllDocuments(run.stdout);
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${dir}: ${d.errors[0]?.message}`);
  return { yaml: run.stdout, objects: docs.map((d) => d.toJS() as Manifest).filter((o) => o !== null) };
}

/** The object of a kind and name; fails naming what the rendering holds. */
export function findObject(objects: Manifest[], kind: string, name: string): Manifest {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (found === undefined) {
    const have = objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(", ");
    throw new Error(`no ${kind}/${name} among ${have}`);
  }
  return found;
}

/**
 * Writes rendered manifests (by name) into `dir` and checks them with kubernetes-validate
 * against the schemas of Kubernetes `version`, strictly: an unknown field fails.
 */
export async function assertValidManifests(
  dir: string,
  version: string,
  yamls: Record<string, string>,
): Promise<void> {
  const files = [];
  for (const [name, yaml] of Object.entries(yamls)) {
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, yaml);
    files.push(file);
  }
  const run = await runTool(kubernetesValidateBin(), ["--strict", "--quiet", "-k", version, ...files]);
  assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
  assert.doesNotMatch(`${run.stdout}${run.stderr}`, /ERROR|WARN/);
}
