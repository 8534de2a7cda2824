import type { LoadReport } from "./report.js";

/** The report as one JSON object on one line (an infinite max/min ratio becomes null). */
export function formatReportJson(r: LoadReport): string {
  return `${JSON.stringify(r)}\n`;
}
