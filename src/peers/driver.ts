import type { PeerKind, ResolvedPeerConfig } from "./options.js";

/** What differs between two peers; process.ts does the rest the same way for both. */
export interface PeerDriver {
  kind: PeerKind;
  /** Human name in messages ("HAProxy"). */
  title: string;
  /** The executable's name, looked up on PATH, then in /usr/sbin and /sbin. */
  executable: string;
  /** The Debian package that provides it. */
  debianPackage: string;
  /** The configuration as text, from the typed builder. */
  render(o: ResolvedPeerConfig, header: string): string;
  /** Where the configuration is written, and the file its stdout and stderr go to. */
  files(workDir: string): { config: string; console: string };
  /** Arguments that only check the configuration (`haproxy -c`, `nginx -t`). */
  checkArgs(configPath: string, workDir: string): string[];
  /** Arguments that run it in the foreground with this configuration. */
  runArgs(configPath: string, workDir: string): string[];
  /** Arguments that print the version, and how to find it in the output. */
  versionArgs: string[];
  versionPattern: RegExp;
}
