import assert from "node:assert/strict";
import { basename } from "node:path";
import { describe, it } from "node:test";
import {
  chinesePathOf,
  codeBlocks,
  type DocPage,
  docPages,
  headings,
  isChinese,
  linkTargets,
  makeMentions,
} from "../docs-pages.js";

const pages = docPages();
const byPath = new Map(pages.map((p) => [p.path, p]));
const english = pages.filter((p) => !isChinese(p.path));
const chinese = pages.filter((p) => isChinese(p.path));

/** The heading levels (#, ##, ###) outside code blocks, in document order. */
const headingLevels = (markdown: string): string[] =>
  headings(markdown)
    .filter((h) => h.level <= 3)
    .map((h) => "#".repeat(h.level));

function pair(en: DocPage): DocPage {
  const zh = byPath.get(chinesePathOf(en.path));
  assert.ok(zh, `${en.path} has no Chinese page ${chinesePathOf(en.path)}`);
  return zh;
}

describe("every English page has its Traditional Chinese page, and the other way round", () => {
  it("pairs README.md with README.zh-TW.md and docs/X.md with docs/zh-TW/X.md", () => {
    assert.ok(english.length > 2, "docs/ has pages");
    assert.deepEqual(chinese.map((p) => p.path).sort(), english.map((p) => chinesePathOf(p.path)).sort());
  });

  it("lists every topic page in the README of its language", () => {
    const readme = byPath.get("README.md")?.text ?? "";
    const readmeZh = byPath.get("README.zh-TW.md")?.text ?? "";
    for (const page of english.filter((p) => p.path.startsWith("docs/"))) {
      assert.ok(linkTargets(readme).includes(page.path), `README.md does not link to ${page.path}`);
      const zh = chinesePathOf(page.path);
      assert.ok(linkTargets(readmeZh).includes(zh), `README.zh-TW.md does not link to ${zh}`);
    }
  });
});

for (const en of english) {
  const zhPath = chinesePathOf(en.path);
  describe(`${zhPath} stays in step with ${en.path}`, () => {
    it("has the same sequence of #, ## and ### headings", () => {
      const levels = headingLevels(en.text);
      assert.ok(levels.length > 0);
      assert.deepEqual(headingLevels(pair(en).text), levels);
    });

    it(`has every code block of ${en.path} verbatim, in the same order`, () => {
      const zh = pair(en).text;
      let from = 0;
      for (const [i, block] of codeBlocks(en.text).entries()) {
        const at = zh.indexOf(block, from);
        assert.ok(at >= 0, `code block ${i + 1} of ${en.path} is missing or out of order:\n${block}`);
        from = at + block.length;
      }
    });

    it(`mentions every make target that ${en.path} mentions`, () => {
      const zh = pair(en).text;
      for (const target of makeMentions(en.text)) {
        assert.ok(zh.includes(`make ${target}`), `make ${target} is not mentioned`);
      }
    });

    it("links to each other", () => {
      const zh = pair(en);
      const toZh = en.path === "README.md" ? "README.zh-TW.md" : `zh-TW/${basename(en.path)}`;
      const toEn = en.path === "README.md" ? "README.md" : `../${basename(en.path)}`;
      assert.ok(en.text.includes(`[繁體中文](${toZh})`), `${en.path} does not link to ${toZh}`);
      assert.ok(zh.text.includes(`[English](${toEn})`), `${zh.path} does not link to ${toEn}`);
    });
  });
}

describe("Chinese pages link to Chinese pages", () => {
  it("links from README.zh-TW.md and docs/zh-TW/ to .md files stay in Chinese, but for the [English] link", () => {
    for (const zh of chinese) {
      const english = zh.text.match(/\[English\]\(([^)]+)\)/)?.[1];
      for (const target of linkTargets(zh.text)) {
        const file = target.split("#")[0] ?? "";
        if (!file.endsWith(".md") || target === english || /^[a-z][\w+.-]*:/.test(target)) continue;
        const ok = zh.path === "README.zh-TW.md" ? file.startsWith("docs/zh-TW/") : !file.includes("/");
        assert.ok(ok, `${zh.path} links to ${target}, not to its Chinese page`);
      }
    }
  });
});
