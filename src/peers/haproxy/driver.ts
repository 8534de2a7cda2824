import type { PeerDriver } from "../driver.js";
import { buildHaproxyConfig, haproxyFiles } from "./config.js";
import { renderHaproxyConfig } from "./render.js";

export const haproxyDriver: PeerDriver = {
  kind: "haproxy",
  title: "HAProxy",
  executable: "haproxy",
  debianPackage: "haproxy",
  render: (o, header) => renderHaproxyConfig(buildHaproxyConfig(o), header),
  files: (workDir) => {
    const f = haproxyFiles(workDir);
    return { config: f.config, console: f.log };
  },
  checkArgs: (config) => ["-c", "-f", config],
  // -db: stay in the foreground, no master process: stopping the group stops HAProxy.
  runArgs: (config) => ["-db", "-f", config],
  versionArgs: ["-v"],
  versionPattern: /HAProxy version (\d+\.\d+\.\d+)/,
};
