import { stringify } from "yaml";
import { buildBootstrap } from "./bootstrap.js";
import { type EnvoyConfigOptions, resolveEnvoyConfigOptions } from "./options.js";
import type { Bootstrap } from "./types.js";

/** Serializes Envoy configuration (a bootstrap, an SDS file); the only place configuration becomes text. */
export function configToYaml(config: object, header?: string): string {
  const body = stringify(config, { lineWidth: 0, aliasDuplicateObjects: false });
  return header ? `${header.replace(/^/gm, "# ")}\n${body}` : body;
}

/** Serializes a bootstrap. */
export const bootstrapToYaml = <L, C>(bootstrap: Bootstrap<L, C>, header?: string): string =>
  configToYaml(bootstrap, header);

/** Options → resolved options → bootstrap → YAML. */
export function envoyConfigYaml(options: EnvoyConfigOptions = {}, header?: string): string {
  return bootstrapToYaml(buildBootstrap(resolveEnvoyConfigOptions(options)), header);
}
