/** Keeps the last `maxLines` lines written to it: a child's stderr for error messages. */
export class LineTail {
  private readonly lines: string[] = [];
  private partial = "";

  constructor(private readonly maxLines = 20) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) this.add(line);
  }

  private add(line: string): void {
    const trimmed = line.trimEnd();
    if (trimmed === "") return;
    this.lines.push(trimmed);
    if (this.lines.length > this.maxLines) this.lines.shift();
  }

  /** The kept lines joined by newlines, including an unterminated last line. */
  text(): string {
    const all = this.partial.trim() === "" ? this.lines : [...this.lines, this.partial.trimEnd()];
    return all.slice(-this.maxLines).join("\n");
  }
}
