import type { PeerDriver } from "../driver.js";
import { buildNginxConfig, nginxFiles } from "./config.js";
import { renderNginxConfig } from "./render.js";

export const nginxDriver: PeerDriver = {
  kind: "nginx",
  title: "nginx",
  executable: "nginx",
  debianPackage: "nginx-light",
  render: (o, header) => renderNginxConfig(buildNginxConfig(o), header),
  files: (workDir) => {
    const f = nginxFiles(workDir);
    return { config: f.config, console: f.errorLog };
  },
  // -p: the work directory is nginx's prefix; -e: its startup errors go there too, not to /var/log/nginx.
  checkArgs: (config, workDir) => [
    "-t",
    "-q",
    "-c",
    config,
    "-p",
    workDir,
    "-e",
    nginxFiles(workDir).errorLog,
  ],
  runArgs: (config, workDir) => ["-c", config, "-p", workDir, "-e", nginxFiles(workDir).errorLog],
  versionArgs: ["-v"],
  versionPattern: /nginx\/(\d+\.\d+\.\d+)/,
};
