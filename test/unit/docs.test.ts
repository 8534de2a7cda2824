import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { before, describe, it } from "node:test";
import { commands, main } from "../../src/cli/main.js";
import { COMPOSE_SCENARIO_NAMES } from "../../src/engines/compose/scenarios/scenario.js";
import { K8S_SCENARIO_NAMES } from "../../src/engines/k8s/report.js";
import { SCENARIO_NAMES } from "../../src/lab/scenarios/registry.js";
import { packageRoot } from "../../src/paths.js";
import {
  anchors,
  codeBlocks,
  codeTexts,
  docPages,
  inlineCode,
  linkTargets,
  makeTargetsRun,
  slug,
} from "../docs-pages.js";
import { captureContext } from "../helpers.js";

const pages = docPages();
const byPath = new Map(pages.map((p) => [p.path, p]));

describe("GitHub's heading anchors", () => {
  it("drops code marks and punctuation, keeps letters of any script", () => {
    assert.equal(
      slug("Is my Envoy balancing gRPC? `grpc-lb doctor`"),
      "is-my-envoy-balancing-grpc-grpc-lb-doctor",
    );
    assert.equal(
      slug("The Envoy tier: replicas, readiness, drain"),
      "the-envoy-tier-replicas-readiness-drain",
    );
    assert.equal(slug("Envoy 層：副本、就緒、排空、連線壽命、熱重啟"), "envoy-層副本就緒排空連線壽命熱重啟");
    assert.equal(
      slug("沒有 registry 的映像檔：`make docker-images`"),
      "沒有-registry-的映像檔make-docker-images",
    );
  });

  it("numbers a repeated heading", () => {
    assert.deepEqual([...anchors("# A\n## B\n## B\n```\n## C\n```\n")], ["a", "b", "b-1"]);
  });
});

describe("every relative link and anchor in the docs resolves", () => {
  for (const page of pages) {
    it(page.path, () => {
      const broken: string[] = [];
      for (const target of linkTargets(page.text)) {
        if (/^[a-z][\w+.-]*:/.test(target)) continue; // https:, mailto:
        const [file = "", anchor] = target.split("#", 2);
        const path = file === "" ? page.path : normalize(join(dirname(page.path), decodeURI(file)));
        if (!existsSync(join(packageRoot, path))) {
          broken.push(`${target}: no file ${path}`);
          continue;
        }
        if (anchor === undefined) continue;
        const linked = byPath.get(path);
        if (linked === undefined) broken.push(`${target}: ${path} is not a docs page, it has no anchors`);
        else if (!anchors(linked.text).has(decodeURIComponent(anchor)))
          broken.push(`${target}: ${path} has no heading with anchor #${anchor}`);
      }
      assert.deepEqual(broken, []);
    });
  }
});

/** Targets the Makefile and mk/*.mk define (`name:` at the start of a line). */
function makeTargets(): Set<string> {
  const files = ["Makefile", ...readdirSync(join(packageRoot, "mk")).map((f) => join("mk", f))];
  const out = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(packageRoot, file), "utf8");
    for (const m of text.matchAll(/^([a-z0-9][\w.-]*)\s*:(?!=)/gm)) out.add(m[1] ?? "");
  }
  return out;
}

describe("every make target named in the docs exists", () => {
  const targets = makeTargets();
  it("finds the Makefile's targets", () => {
    for (const t of ["demo", "test", "docker-cluster", "k8s-cluster", "e2e-k8s", "chromium"])
      assert.ok(targets.has(t), t);
  });
  for (const page of pages) {
    it(page.path, () => {
      const missing = codeTexts(page.text)
        .flatMap(makeTargetsRun)
        .filter((t) => !targets.has(t));
      assert.deepEqual([...new Set(missing)], []);
    });
  }
});

/**
 * `grpc-lb …` as written in the docs: the words after it, up to a pipe, `;`,
 * `&&`, a comment or a redirect. The namespace of `kubectl -n grpc-lb` is not
 * a command.
 */
function grpcLbCommands(code: string): string[][] {
  const text = code.replaceAll("\\|", "/").replace(/(?:^|\s)#(?:\s.*)?$/gm, "");
  return [...text.matchAll(/(?:^|[\s/'"(])(?<!-n |namespace )grpc-lb ([^|;&>\n]*)/g)].map((m) =>
    (m[1] ?? "")
      .trim()
      .split(/\s+/)
      .filter((t) => t !== ""),
  );
}

/** The flags a word list names: `--flag`, `-n`, also inside `[--flag X]`; `--load-start/-end` gives `--load-start`. */
function flagsOf(words: readonly string[]): string[] {
  return words.flatMap((w) => {
    const m = /^\[?(--?[a-zA-Z][\w-]*)/.exec(w);
    return m?.[1] ? [m[1]] : [];
  });
}

/** The ghz comparison table: its first column is ours (`grpc-lb load`), the second ghz's, which is not checked. */
function ghzTableFlags(markdown: string): string[] {
  return codeBlocks(markdown)
    .map((block) => block.split("\n").slice(1, -1))
    .filter((lines) => /^grpc-lb load\s+ghz\b/.test(lines[0] ?? ""))
    .flatMap((lines) =>
      lines.slice(1).flatMap((line) => flagsOf((line.split(/\s{2,}/)[0] ?? "").split(/[\s,]+/))),
    );
}

const helpTexts = new Map<string, string>();

/** What `grpc-lb … --help` prints, by running the CLI's main() in this process. */
async function help(path: readonly string[]): Promise<string> {
  const key = path.join(" ");
  const known = helpTexts.get(key);
  if (known !== undefined) return known;
  const run = captureContext();
  const code = await main([...path, "--help"], run.ctx);
  assert.equal(code, 0, `grpc-lb ${key} --help exited ${code}: ${run.stderr()}`);
  const text = run.stdout() + run.stderr();
  helpTexts.set(key, text);
  return text;
}

/** Subcommands a command's help names as `grpc-lb CMD SUB` (lab up, compose doctor, k8s envoy-hosts, …). */
async function subcommandsOf(command: string): Promise<Set<string>> {
  const text = await help([command]);
  const pattern = new RegExp(`grpc-lb ${command} ([a-z][a-z0-9-]*)`, "g");
  return new Set([...text.matchAll(pattern)].map((m) => m[1] ?? ""));
}

/** The flags a help text lists. */
const helpFlags = (text: string): Set<string> =>
  new Set([...text.matchAll(/(?<![\w/-])(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1] ?? ""));

/** Checks one `grpc-lb …` word list; returns what is wrong with it, if anything. */
async function checkCommand(words: readonly string[]): Promise<string[]> {
  const [first, second] = words;
  if (first === undefined || first.startsWith("<")) return [];
  const names = commands.map((c) => c.name);
  let path: string[] = [];
  if (!first.startsWith("-")) {
    if (!names.includes(first)) return [`grpc-lb ${first}: no such command (${names.join(", ")})`];
    path = [first];
    if (second !== undefined && (await subcommandsOf(first)).has(second)) path = [first, second];
  }
  const known = helpFlags(await help(path));
  return flagsOf(words.slice(path.length))
    .filter((f) => !known.has(f))
    .map((f) => `grpc-lb ${path.join(" ")}: ${f} is not in its --help`);
}

describe("every grpc-lb command and flag named in the docs exists", () => {
  before(async () => {
    // Warm the cache once, so each page's test only compares.
    await help([]);
  });

  it("reads commands, flags and the ghz table as intended", () => {
    assert.deepEqual(grpcLbCommands("$ ./bin/grpc-lb lab --json | jq .backends; echo"), [["lab", "--json"]]);
    assert.deepEqual(grpcLbCommands("grpc-lb lab [--discovery headless\\|clusterip]"), [
      ["lab", "[--discovery", "headless/clusterip]"],
    ]);
    assert.deepEqual(grpcLbCommands("npm pack   # then grpc-lb on PATH"), []);
    assert.deepEqual(grpcLbCommands("kubectl -n grpc-lb port-forward svc/envoy"), []);
    assert.deepEqual(flagsOf(["-n", "3", "[--policy", "P]", "--load-start/-end/-step", "300"]), [
      "-n",
      "--policy",
      "--load-start",
    ]);
    const table = "```text\ngrpc-lb load      ghz     notes\n-n, --requests N      -n, --total N\n```\n";
    assert.deepEqual(ghzTableFlags(table), ["-n", "--requests"]);
  });

  it("refuses a flag that a command does not take", async () => {
    assert.deepEqual(await checkCommand(["load", "--target", "x", "--no-such-flag"]), [
      "grpc-lb load: --no-such-flag is not in its --help",
    ]);
    assert.deepEqual(await checkCommand(["lab", "scenario", "failover", "--envoy-cluster", "x"]), [
      "grpc-lb lab scenario: --envoy-cluster is not in its --help",
    ]);
    assert.match((await checkCommand(["labs"]))[0] ?? "", /no such command/);
  });

  for (const page of pages) {
    it(page.path, async () => {
      const problems: string[] = [];
      for (const code of codeTexts(page.text))
        for (const words of grpcLbCommands(code)) problems.push(...(await checkCommand(words)));
      const loadFlags = helpFlags(await help(["load"]));
      for (const flag of ghzTableFlags(page.text))
        if (!loadFlags.has(flag)) problems.push(`grpc-lb load (ghz table): ${flag} is not in its --help`);
      assert.deepEqual([...new Set(problems)], []);
    });
  }
});

describe("the docs tree", () => {
  it("holds only Markdown pages and the images they show", () => {
    const files = readdirSync(join(packageRoot, "docs"), { recursive: true, encoding: "utf8" }).filter((f) =>
      statSync(join(packageRoot, "docs", f)).isFile(),
    );
    const shown = new Set(
      pages.flatMap((p) =>
        linkTargets(p.text).map((t) => normalize(join(dirname(p.path), t.split("#")[0] ?? ""))),
      ),
    );
    for (const f of files)
      assert.ok(
        f.endsWith(".md") || shown.has(join("docs", f)),
        `docs/${f} is neither a page nor shown by one`,
      );
  });
});

describe("the CLI reference", () => {
  it("has a row for every command and subcommand", async () => {
    const reference = byPath.get("docs/cli.md")?.text ?? "";
    const inline = codeTexts(reference).join("\n");
    for (const command of commands) {
      assert.ok(
        inline.includes(`grpc-lb ${command.name}`),
        `docs/cli.md does not name grpc-lb ${command.name}`,
      );
      for (const sub of await subcommandsOf(command.name))
        assert.ok(
          inline.includes(`grpc-lb ${command.name} ${sub}`),
          `docs/cli.md does not name grpc-lb ${command.name} ${sub}`,
        );
    }
  });

  it("lists every scenario of the lab, Compose and Kubernetes", () => {
    const reference = inlineCode(byPath.get("docs/cli.md")?.text ?? "");
    const lists: [string, readonly string[]][] = [
      ["lab scenario", SCENARIO_NAMES],
      ["compose scenario", COMPOSE_SCENARIO_NAMES],
      ["k8s scenario", K8S_SCENARIO_NAMES],
    ];
    for (const [command, names] of lists) {
      const row = reference.find((code) => code.startsWith(`grpc-lb ${command} `)) ?? "";
      const listed = row.replaceAll("\\|", "|").split(" ")[3]?.split("|") ?? [];
      for (const name of names)
        assert.ok(listed.includes(name), `docs/cli.md: grpc-lb ${command} lacks ${name}`);
    }
  });
});
