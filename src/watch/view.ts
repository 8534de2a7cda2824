import type { ClusterFrame } from "./interval.js";
import type { ClusterChoice } from "./pick-cluster.js";

/** One Envoy's part of a reading: its cluster's frame, or why its admin API could not be read this time. */
export type Section =
  | { kind: "frame"; choice: ClusterChoice; frame: ClusterFrame }
  | { kind: "unread"; choice: ClusterChoice; admin: string; ts: string; message: string };

/** How a watch shows its readings: one implementation per output (view-tty.ts, view-text.ts, view-json.ts). */
export interface WatchView {
  /** The first reading: hosts, health and requests in flight, no rates yet. */
  first(sections: readonly Section[]): void;
  /** One interval, with rates. */
  interval(sections: readonly Section[]): void;
  /** The watch ends (--count reached, Ctrl-C, a failure): leave the terminal as it was. */
  close(): void;
}

/** What every view gets. */
export interface ViewOptions {
  write(text: string): void;
  /** Time between readings, ms: said where the rates are not known yet. */
  intervalMs: number;
  /** ANSI colours (a terminal without NO_COLOR). */
  colour: boolean;
  /** The terminal's width and height in characters (80 × 24 when not known). */
  columns: number;
  rows: number;
}

/** tty: redrawn in place with bars and colours; text: one block of plain lines per interval; json: one line per Envoy and interval. */
export type ViewKind = "tty" | "text" | "json";
