export * from "../envoy/budgets.js";
export * from "./load.js";
export * from "./report.js";
export * from "./target.js";
