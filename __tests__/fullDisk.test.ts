// A write that fails for want of space (or permission) fails the run with one
// line and exit status 1, and leaves the last checkpoint whole and resumable.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { jsonLines, runCli, subset } from "./helpers/cli";

const asRoot = process.getuid?.() === 0;
let tmp: string;
let data: string;
let mounted: string | null = null;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-full-disk-"));
  data = subset(path.join(tmp, "data"), 2);
});

afterAll(() => {
  if (mounted) execFileSync("umount", [mounted]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Writes into `dir` until the filesystem refuses with ENOSPC; returns the filler's path. */
function fillUp(dir: string): string {
  const file = path.join(dir, "filler");
  const fd = fs.openSync(file, "w");
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

// Root (as in CI) gets a real full disk: a small tmpfs mounted for the test.
// Others cannot mount, and bypass no permission: the run folder is made read-only.
test(asRoot ? "on a full tmpfs, a checkpoint or model write fails with one line naming ENOSPC, exit 1, and the last checkpoint resumes"
  : "in a read-only run folder, a checkpoint or model write fails with one line, exit 1, and the last checkpoint resumes", () => {
  const disk = path.join(tmp, "disk");
  fs.mkdirSync(disk);
  let filler: string | null = null;
  try {
    if (asRoot) {
      // Room for the starting weights, a best model and one checkpoint (about 45 + 45 + 90 MB) and their temporary copies.
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=320m", "tmpfs", disk]);
      mounted = disk;
    }
    const out = path.join(disk, "run");
    const first = runCli("featureExtract", ["--data", data, "--epochs", "1", "--weights", "none", "--json", "--no-report", "--out", out]);
    expect(first.status).toBe(0);
    const checkpoint = path.join(out, "checkpoint.safetensors");
    const before = fs.readFileSync(checkpoint);
    const files = fs.readdirSync(out).sort();

    if (asRoot) filler = fillUp(disk);
    else fs.chmodSync(out, 0o555);
    const full = runCli("featureExtract", ["--resume", out, "--epochs", "3", "--json", "--no-report"]);
    expect(full.status).toBe(1);
    const lines = full.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^feature-extract: cannot write ${out}/(model|checkpoint)\\.safetensors: ${asRoot ? "ENOSPC: no space left on device" : "EACCES: permission denied"}`),
    );
    // Nothing half-written stays behind, and the last checkpoint is the one written before.
    expect(fs.readdirSync(out).sort()).toEqual(files);
    expect(fs.readFileSync(checkpoint).equals(before)).toBe(true);

    if (filler) fs.rmSync(filler);
    else fs.chmodSync(out, 0o755);
    const resumed = runCli("featureExtract", ["--resume", out, "--epochs", "3", "--json", "--no-report"]);
    expect(resumed.status).toBe(0);
    expect(jsonLines(resumed.stdout).filter((l) => l.phase).map((l) => [l.epoch, l.phase])).toEqual([[1, "train"], [1, "val"], [2, "train"], [2, "val"]]);
  } finally {
    if (!asRoot && fs.existsSync(path.join(disk, "run"))) fs.chmodSync(path.join(disk, "run"), 0o755);
    if (mounted) {
      execFileSync("umount", [mounted]);
      mounted = null;
    }
  }
});
