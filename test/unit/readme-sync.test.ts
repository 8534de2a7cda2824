import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { packageRoot } from "../../src/paths.js";

const english = readFileSync(join(packageRoot, "README.md"), "utf8");
const chinese = readFileSync(join(packageRoot, "README.zh-TW.md"), "utf8");

/** Fenced code blocks, fences included, in document order. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[^\n]*\n[\s\S]*?^```$/gm)].map((m) => m[0]);
}

/** The `## ` and `### ` heading levels outside code blocks, in document order. */
function headingLevels(markdown: string): string[] {
  let prose = markdown;
  for (const block of codeBlocks(markdown)) {
    prose = prose.replace(block, "");
  }
  return prose
    .split("\n")
    .filter((line) => /^#{2,3} /.test(line))
    .map((line) => line.slice(0, line.indexOf(" ")));
}

/** Every distinct `make <target>` mentioned, in order of first mention. */
function makeTargets(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\bmake ([a-z0-9][\w-]*)/g)].map((m) => m[1] ?? "");
  return [...new Set(targets)].filter((t) => t !== "");
}

describe("README.zh-TW.md stays in step with README.md", () => {
  it("has the same sequence of ## and ### headings", () => {
    const levels = headingLevels(english);
    assert.ok(levels.length > 0);
    assert.deepEqual(headingLevels(chinese), levels);
  });

  it("has every code block of README.md verbatim, in the same order", () => {
    const blocks = codeBlocks(english);
    assert.ok(blocks.length > 0);
    let from = 0;
    for (const [i, block] of blocks.entries()) {
      const at = chinese.indexOf(block, from);
      assert.ok(at >= 0, `code block ${i + 1} of README.md is missing or out of order:\n${block}`);
      from = at + block.length;
    }
  });

  it("mentions every make target that README.md mentions", () => {
    const targets = makeTargets(english);
    assert.ok(targets.includes("demo"));
    for (const target of targets) {
      assert.ok(chinese.includes(`make ${target}`), `make ${target} is not mentioned`);
    }
  });

  it("links back to README.md", () => {
    assert.ok(chinese.includes("[English](README.md)"));
  });

  it("is linked from README.md", () => {
    assert.ok(english.includes("[繁體中文](README.zh-TW.md)"));
  });
});
