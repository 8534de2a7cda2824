import { stringify } from "yaml";
import { buildBootstrap } from "./bootstrap.js";
import { type EnvoyConfigOptions, resolveEnvoyConfigOptions } from "./options.js";
import type { Bootstrap } from "./types.js";

/** Serializes a bootstrap; the only place configuration becomes text. */
export function bootstrapToYaml<L, C>(bootstrap: Bootstrap<L, C>, header?: string): string {
  const body = stringify(bootstrap, { lineWidth: 0, aliasDuplicateObjects: false });
  return header ? `${header.replace(/^/gm, "# ")}\n${body}` : body;
}

/** Options → resolved options → bootstrap → YAML. */
export function envoyConfigYaml(options: EnvoyConfigOptions = {}, header?: string): string {
  return bootstrapToYaml(buildBootstrap(resolveEnvoyConfigOptions(options)), header);
}
