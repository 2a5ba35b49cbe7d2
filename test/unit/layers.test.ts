/**
 * The layer rule of the README's "Layout" table, checked against the tree: every folder of
 * components/ and scripts/ has a layer there, and a file imports only its own folder and lower
 * layers. The table is the rule, so the README cannot drift from the code.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { basename, dirname, join, normalize, relative } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(__dirname, "..", "..");

/** `folder → layer` from the README's Layout table (`index.ts` stands for the top level). */
function layersFromReadme(): Map<string, number> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.split("\n## Layout\n")[1]?.split("\n## ")[0] ?? "";
  const layers = new Map<string, number>();
  for (const m of section.matchAll(/^\| (\d+) \| `([^`]+)` \|/gm)) {
    layers.set((m[2] as string).replace(/\/$/, ""), Number(m[1]));
  }
  return layers;
}

function trackedFiles(): string[] {
  return execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "");
}

/** The Layout row a file belongs to: its folder, or `index.ts` for the top level. */
function folderOf(file: string): string {
  const dir = dirname(file);
  return dir === "." ? "index.ts" : dir;
}

/** Relative imports of a TypeScript file, resolved to repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)["'](\.{1,2}\/[^"']+)["']/g)];
  return specs.map((m) => relative(ROOT, normalize(join(ROOT, dirname(file), m[1] as string))));
}

describe("layers - the README's Layout table holds for the tree", () => {
  const layers = layersFromReadme();
  const code = trackedFiles().filter(
    (f) => f.endsWith(".ts") && (f === "index.ts" || f.startsWith("components/") || f.startsWith("scripts/")),
  );

  it("the table has a row for every folder of code, and every row is a folder of code", () => {
    assert.ok(layers.size > 10, `the Layout table was not found in README.md (${layers.size} rows)`);
    const folders = new Set(code.map(folderOf));
    assert.deepEqual(
      [...folders].filter((f) => !layers.has(f)).sort(),
      [],
      "folders missing in README Layout",
    );
    assert.deepEqual(
      [...layers.keys()].filter((f) => !folders.has(f)).sort(),
      [],
      "README rows without a folder",
    );
  });

  it("no file imports a higher layer or a sibling folder", () => {
    assert.deepEqual(violations(code, layers, importsOf), []);
  });

  it("the rule can fail: imports into higher layers are reported", () => {
    const imports = (file: string) =>
      file === "components/jetstream/a.ts" ? ["scripts/commands/b.ts"] : ["scripts/drift/c.ts"];
    assert.deepEqual(violations(["components/jetstream/a.ts", "scripts/ops/d.ts"], layers, imports), [
      `components/jetstream/a.ts (layer ${layers.get("components/jetstream")}) imports scripts/commands/b.ts (layer ${layers.get("scripts/commands")})`,
      `scripts/ops/d.ts (layer ${layers.get("scripts/ops")}) imports scripts/drift/c.ts (layer ${layers.get("scripts/drift")})`,
    ]);
  });

  it("no two files share a name", () => {
    const seen = new Map<string, string[]>();
    for (const f of trackedFiles()) seen.set(basename(f), [...(seen.get(basename(f)) ?? []), f]);
    const shared = [...seen.values()].filter((paths) => paths.length > 1 && !paths.every(isConventional));
    assert.deepEqual(shared, []);
  });
});

/** Every import from a folder to one of the same or a higher layer. */
function violations(
  files: readonly string[],
  layers: ReadonlyMap<string, number>,
  imports: (file: string) => string[],
): string[] {
  const found: string[] = [];
  for (const file of files) {
    const from = folderOf(file);
    for (const target of imports(file)) {
      const to = folderOf(target);
      if (to === from) continue;
      const [a, b] = [layers.get(from), layers.get(to)];
      if (a === undefined || b === undefined || b >= a) {
        found.push(`${file} (layer ${a}) imports ${target} (layer ${b ?? "none"})`);
      }
    }
  }
  return found;
}

/** Files every folder of its kind has by convention (package manifests, ignore files). */
function isConventional(path: string): boolean {
  return [".gitignore", "README.md", "package.json"].includes(basename(path));
}
