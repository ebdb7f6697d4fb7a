// The API reference: TypeDoc builds it from the TSDoc comments of what the
// package exports (`npm run docs`, into docs/api/). A warning (a public
// signature that names a type the package does not export, a broken link)
// fails the build here, so the reference stays whole as the API grows.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

test("TypeDoc builds the API reference without a warning, with a page for each public class", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "tt-api-"));
  try {
    const typedoc = path.join(ROOT, "node_modules", "typedoc", "bin", "typedoc");
    const r = spawnSync(process.execPath, [typedoc, "--out", out, "--treatWarningsAsErrors"], { cwd: ROOT, encoding: "utf8", timeout: 600_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
    expect(r.stdout + r.stderr).not.toMatch(/warning|error/i);
    expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
    for (const page of ["index.html", "classes/DataLoader.html", "classes/Classifier.html", "classes/datasets.ImageFolder.html", "interfaces/Tensor.html"]) {
      expect(fs.existsSync(path.join(out, page))).toBe(true);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
