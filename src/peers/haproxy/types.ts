/** HAProxy configuration as typed data: sections of keyword lines, serialized only by render.ts. */

/** One line of a section: a keyword and its arguments, with why it is there. */
export interface HaproxyLine {
  keyword: string;
  args: readonly (string | number)[];
  /** Written as a comment above the line. */
  why?: string;
}

export type HaproxySectionKind = "global" | "defaults" | "resolvers" | "frontend" | "backend";

export interface HaproxySection {
  kind: HaproxySectionKind;
  /** Absent for global and for an anonymous defaults section. */
  name?: string;
  lines: readonly HaproxyLine[];
}

export interface HaproxyConfig {
  sections: readonly HaproxySection[];
}

/** The names the builder gives, which the process wrapper and the stats reader look for. */
export const HAPROXY_NAMES = {
  resolvers: "lab",
  frontend: "grpc",
  backend: "servers",
  /** Prefix of the server-template's slots: srv1, srv2, … */
  slot: "srv",
} as const;
