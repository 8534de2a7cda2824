import { readdirSync, readFileSync } from "node:fs";

/** The parent pid in one /proc/PID/stat line (field 4, counted after the command name's last ')'). */
export function statParentPid(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/**
 * A process and every descendant now: nginx's master forks its workers, whose CPU is the
 * balancing; HAProxy and Envoy are one process with threads, so this is their pid alone.
 * Processes that end while /proc is read are skipped.
 */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    const ppid = statParentPid(stat);
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i] as number) ?? []));
  return tree;
}
