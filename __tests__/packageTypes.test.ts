// The built package as a TypeScript user meets it: two tiny consumer projects,
// one ESM (module nodenext, "type": "module") and one CommonJS (module commonjs,
// esModuleInterop), both strict and without skipLibCheck, compiled by the
// project's own tsc against dist/. A deliberate type error in each must fail
// to compile: that is what proves the types are real and not `any`.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");

let tmp: string;

beforeAll(() => {
  expect(fs.existsSync(path.join(ROOT, "dist", "entry.d.mts"))).toBe(true); // built by `npm run build:ts`
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-types-"));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Consumer {
  packageJson: object;
  compilerOptions: object;
  good: string;
  bad: string;
}

const GOOD_BODY = `
const t: Tensor = tensor(new Float32Array([1, 2, 3]), [3]);
const shape: number[] = t.shape;
const viaDefault: Tensor = tt.tensor(new Float32Array([4]));
const normalize = new transforms.Normalize([0.5], [0.25]);
const model: InstanceType<typeof tt.models.ResNet> = tt.models.resnet18({ numClasses: 2 });
console.log(JSON.stringify({ shape, sameFunction: tt.tensor === tensor, normalize: String(normalize), fc: model.fc.outFeatures }));
t.dispose();
viaDefault.dispose();
`;

// Each line is an error the compiler must report; `any` would accept them all.
const BAD_BODY = `
const n: number = tt.tensor(new Float32Array([1]));
const s: string = tensor(new Float32Array([1])).shape;
tt.models.resnet18({ numClasses: "two" });
`;

const CONSUMERS: Record<string, Consumer> = {
  esm: {
    packageJson: { name: "esm-consumer", private: true, type: "module" },
    compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "ES2022" },
    good: `import tt, { tensor, transforms, type Tensor } from "torch-transfer";\n${GOOD_BODY}`,
    bad: `import tt, { tensor } from "torch-transfer";\n${BAD_BODY}`,
  },
  cjs: {
    packageJson: { name: "cjs-consumer", private: true },
    compilerOptions: { module: "commonjs", moduleResolution: "node10", esModuleInterop: true, target: "ES2022" },
    good: `import tt, { tensor, transforms, Tensor } from "torch-transfer";\n${GOOD_BODY}`,
    bad: `import tt, { tensor } from "torch-transfer";\n${BAD_BODY}`,
  },
};

/** Writes the project with one source file; returns its folder. */
function project(kind: string, variant: "good" | "bad"): string {
  const consumer = CONSUMERS[kind];
  const dir = path.join(tmp, `${kind}-${variant}`);
  fs.mkdirSync(path.join(dir, "node_modules"), { recursive: true });
  fs.symlinkSync(ROOT, path.join(dir, "node_modules", "torch-transfer"));
  fs.symlinkSync(path.join(ROOT, "node_modules", "@types"), path.join(dir, "node_modules", "@types"));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(consumer.packageJson));
  const compilerOptions = { ...consumer.compilerOptions, strict: true, skipLibCheck: false, types: ["node"], outDir: "out", rootDir: "." };
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["main.ts"] }));
  fs.writeFileSync(path.join(dir, "main.ts"), consumer[variant]);
  return dir;
}

function tsc(dir: string) {
  const r = spawnSync(process.execPath, [TSC, "-p", dir], { encoding: "utf8", timeout: 300_000 });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe.each(Object.keys(CONSUMERS))("a %s consumer (strict, no skipLibCheck)", (kind) => {
  test("type-checks against the built package, and its default and named imports run", () => {
    const dir = project(kind, "good");
    const compiled = tsc(dir);
    expect(compiled.output).toBe("");
    expect(compiled.status).toBe(0);
    const r = spawnSync(process.execPath, [path.join(dir, "out", "main.js")], { encoding: "utf8", timeout: 120_000 });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ shape: [3], sameFunction: true, normalize: "Normalize(mean=[0.5], std=[0.25])", fc: 2 });
  });

  test("a deliberate type error fails to compile, so the types are not any", () => {
    const compiled = tsc(project(kind, "bad"));
    expect(compiled.status).not.toBe(0);
    const errors = compiled.output.split("\n").filter((l) => l.includes("error TS"));
    // One error per bad line (lines 3, 4 and 5 of main.ts), and none from the package's own declarations.
    expect(errors.map((l) => l.match(/main\.ts\((\d+),/)?.[1])).toEqual(["3", "4", "5"]);
    expect(errors[0]).toMatch(/Type 'Tensor' is not assignable to type 'number'/);
  });
});
