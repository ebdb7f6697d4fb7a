// The README's code as a user copies it: each mjs and cjs block runs with node,
// each ts block compiles with the project's tsc (strict, nodenext, no
// skipLibCheck) and runs, in a project that depends on the built package, on a
// few of the tutorial's images. sh blocks are shell commands that install,
// download or train for minutes, and are not run here.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { modelMetadata, RunSettings } from "../lib/train/checkpoint";
import { RESNET18_FILE } from "../lib/hub/weights";

const ROOT = path.resolve(__dirname, "..");
const DATA = path.resolve(ROOT, "../shared/data/hymenoptera_data");
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
const RUNNABLE = new Set(["mjs", "cjs", "ts"]);

interface Block {
  lang: string;
  code: string;
  line: number;
}

function readmeBlocks(): Block[] {
  const text = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const blocks: Block[] = [];
  // Fences may be indented (inside a list item); the closing fence has the same indent.
  const fence = /^( *)```([^\n]*)\n([\s\S]*?)^\1```$/gm;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const indent = m[1].length;
    const code = m[3].split("\n").map((l) => l.slice(indent)).join("\n");
    blocks.push({ lang: m[2].trim(), code, line: text.slice(0, m.index).split("\n").length });
  }
  return blocks;
}

const BLOCKS = readmeBlocks();
let project: string;

/** A copy of the data set's layout with the first `n` images of each class (links, not copies). */
function linkSubset(dir: string, n: number) {
  for (const phase of ["train", "val"]) {
    for (const cls of ["ants", "bees"]) {
      const src = path.join(DATA, phase, cls);
      const dst = path.join(dir, phase, cls);
      fs.mkdirSync(dst, { recursive: true });
      for (const f of fs.readdirSync(src).filter((f) => f.endsWith(".jpg")).sort().slice(0, n)) fs.symlinkSync(path.join(src, f), path.join(dst, f));
    }
  }
}

beforeAll(async () => {
  expect(fs.existsSync(path.join(ROOT, "dist", "entry.mjs"))).toBe(true); // built by `npm run build:ts`
  project = fs.mkdtempSync(path.join(os.tmpdir(), "tt-readme-"));
  fs.mkdirSync(path.join(project, "node_modules"));
  fs.symlinkSync(ROOT, path.join(project, "node_modules", "torch-transfer"));
  fs.symlinkSync(path.join(ROOT, "node_modules", "@types"), path.join(project, "node_modules", "@types"));
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "readme-user", private: true }));
  linkSubset(path.join(project, "data", "hymenoptera_data"), 4);
  // "IMAGENET1K_V1" comes from the weights cache. There is no network here,
  // so the cache holds a stand-in with torchvision's names and shapes (random
  // weights; the loader tells formats by their bytes, not their names).
  const cache = path.join(project, "weights");
  fs.mkdirSync(cache);
  fs.mkdirSync(path.join(project, "runs", "finetune"), { recursive: true });
  await tt.save(tt.models.resnet18().stateDict(), path.join(cache, RESNET18_FILE));
  // What `npm run finetune` leaves in runs/finetune, for the service example.
  const model = tt.models.resnet18();
  model.fc = new tt.nn.Linear(512, 2);
  const settings = { mode: "finetune", arch: "resnet18" } as unknown as RunSettings;
  await tt.save(model.stateDict(), path.join(project, "runs", "finetune", "model.safetensors"), modelMetadata({ classes: ["ants", "bees"], settings }));
}, 300_000);

afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

function run(file: string) {
  const env = { ...process.env, TORCH_TRANSFER_WEIGHTS_DIR: path.join(project, "weights"), EPOCHS: "1", FORCE_COLOR: "0" };
  return spawnSync(process.execPath, [file], { cwd: project, encoding: "utf8", timeout: 900_000, env });
}

/** Lines `console.log(...); // OUTPUT` promise OUTPUT, unless it has an ellipsis. */
function promisedOutputs(code: string): string[] {
  return [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]).filter((out) => !out.includes("..."));
}

test("every code block is marked mjs (ES module), cjs (CommonJS), ts (TypeScript) or sh (shell), and all three kinds of code are there", () => {
  const langs = BLOCKS.map((b) => b.lang);
  expect(langs.filter((l) => !RUNNABLE.has(l) && l !== "sh")).toEqual([]);
  for (const kind of RUNNABLE) expect(langs).toContain(kind);
});

describe.each(BLOCKS.map((b, i) => [`${b.lang} block at README.md line ${b.line}`, b, i] as const).filter(([, b]) => RUNNABLE.has(b.lang)))("%s", (_, block, i) => {
  test("runs as written, printing what its comments say", () => {
    let file: string;
    if (block.lang === "ts") {
      // An ES module in TypeScript, compiled as its text says: strict, nodenext.
      const dir = path.join(project, `ts-${i}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "main.mts"), block.code);
      const compilerOptions = { module: "nodenext", moduleResolution: "nodenext", target: "ES2022", strict: true, skipLibCheck: false, types: ["node"], outDir: "out" };
      fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["main.mts"] }));
      const compiled = spawnSync(process.execPath, [TSC, "-p", dir], { encoding: "utf8", timeout: 300_000 });
      expect(compiled.stdout + compiled.stderr).toBe("");
      expect(compiled.status).toBe(0);
      file = path.join(dir, "out", "main.mjs");
    } else {
      file = path.join(project, `block-${i}.${block.lang}`);
      fs.writeFileSync(file, block.code);
    }
    const r = run(file);
    expect(r.stderr).toBe("");
    expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
    for (const out of promisedOutputs(block.code)) expect(r.stdout).toContain(out);
  });
});
