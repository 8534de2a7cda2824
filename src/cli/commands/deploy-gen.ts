import { resolve } from "node:path";
import { findDrift, REGENERATE_COMMAND, writeDeployFiles } from "../../deploy/generate.js";
import { UsageError } from "../../errors.js";
import { isCheckout, packageRoot } from "../../paths.js";
import { type Command, parseFlags } from "../args.js";

export const deployGenCommand: Command = {
  name: "deploy-gen",
  summary: "write the Envoy configs of deploy/ (Compose, Kubernetes) from the builder",
  usage: `Usage: grpc-lb deploy-gen [options]

Writes the Envoy configurations that Docker Compose and Kubernetes use, each
made by the same builder as 'grpc-lb envoy-config' from the presets in
src/deploy/presets.ts:
  deploy/compose/envoy.yaml             mounted into the Envoy container
  deploy/k8s/base/envoy-configmap.yaml  a ConfigMap whose envoy.yaml Envoy mounts
  deploy/compose/tls/                   the same over TLS, with its SDS files in sds/
  deploy/k8s/overlays/tls/envoy-configmap.yaml
                                        the same over TLS, the SDS files as more keys

Options:
  --check       write nothing; exit 1 if a checked-in file differs from what
                the builder makes now
  --root DIR    repository root to write under (default: this checkout's root;
                required when grpc-lb was installed with npm, which ships no deploy/)
  -h, --help    show this help
`,
  async run(argv, ctx) {
    const { values } = parseFlags("deploy-gen", argv, {
      check: { type: "boolean" },
      root: { type: "string" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    if (values.root !== undefined && values.root.trim() === "") {
      throw new UsageError("grpc-lb deploy-gen: --root must not be empty");
    }
    if (values.root === undefined && !isCheckout()) {
      throw new UsageError(
        `grpc-lb deploy-gen: ${resolve(packageRoot)} is an installed copy of grpc-lb, not a checkout, and has no deploy/: ` +
          "pass --root DIR to write the files under DIR (or check them there with --check), or run it in a checkout",
      );
    }
    const root = resolve(values.root ?? packageRoot);
    if (values.check) {
      const drift = await findDrift(root);
      for (const d of drift)
        ctx.stderr(`deploy-gen: ${d.path} is ${d.state === "missing" ? "missing" : "out of date"}\n`);
      if (drift.length > 0) {
        ctx.stderr(`deploy-gen: run '${REGENERATE_COMMAND}' to regenerate\n`);
        return 1;
      }
      ctx.stdout("deploy-gen: every generated file is up to date\n");
      return 0;
    }
    const changed = await writeDeployFiles(root);
    ctx.stdout(
      changed.length === 0
        ? "deploy-gen: every generated file is up to date\n"
        : changed.map((p) => `deploy-gen: wrote ${p}\n`).join(""),
    );
    return 0;
  },
};
