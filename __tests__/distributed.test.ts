// Data-parallel training on c10d/Gloo: DistributedSampler's order, DDP against
// PyTorch's own DDP on 2 processes, and the faults (a dead rank, a rendezvous
// that never completes, a port already taken).
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { requireTorchPython, runPython } from "./helpers/python";

const ROOT = path.resolve(__dirname, "..");
const WORKER = path.join(__dirname, "helpers", "ddpWorker.js");
const TOLERANCE = 1e-4;

/** A port the OS says is free now, on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface WorkerResult {
  ok: boolean;
  stage?: string;
  message?: string;
  /** How the worker process ended: its exit code, or the signal that ended it. */
  exit?: number | string;
  [key: string]: unknown;
}

/**
 * Runs one rank per job in its own process; resolves with each rank's JSON line
 * and how its process ended. The rank `killAfterOthers` (one that never ends by
 * itself) is killed with SIGKILL once every other rank has ended, so that it is
 * alive for as long as the others run, however slow they are.
 */
function runRanks(jobs: object[], { timeoutMs = 120_000, killAfterOthers }: { timeoutMs?: number; killAfterOthers?: number } = {}): Promise<WorkerResult[]> {
  const children: ReturnType<typeof spawn>[] = [];
  const results = jobs.map(
    (job) =>
      new Promise<WorkerResult>((resolve, reject) => {
        const child = spawn(process.execPath, [WORKER, JSON.stringify(job)], {
          env: { ...process.env, OMP_NUM_THREADS: "1" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        children.push(child);
        let out = "";
        let err = "";
        child.stdout!.on("data", (d) => (out += d));
        child.stderr!.on("data", (d) => (err += d));
        // A backstop against a hung test run only; no assertion depends on it.
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("close", (code, signal) => {
          clearTimeout(timer);
          const exit = code ?? signal ?? undefined;
          const line = out.trim().split("\n").pop() ?? "";
          try {
            resolve(line ? { ...JSON.parse(line), exit } : { ok: code === 0, stage: "exit", exit, message: `exit ${exit}: ${err.slice(-2000)}` });
          } catch {
            reject(new Error(`worker printed no JSON (exit ${exit}): ${out}\n${err.slice(-2000)}`));
          }
        });
      }),
  );
  if (killAfterOthers !== undefined) {
    Promise.allSettled(results.filter((_, i) => i !== killAfterOthers)).then(() => children[killAfterOthers].kill("SIGKILL"));
  }
  return Promise.all(results);
}

beforeAll(() => {
  // The workers run the compiled package: rebuild dist/ when a source is newer.
  const built = path.join(ROOT, "dist", "distributed", "ddp.js");
  const newest = Math.max(...listTs(path.join(ROOT, "lib")).map((f) => fs.statSync(f).mtimeMs));
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newest) {
    execFileSync("npm", ["run", "build:ts"], { cwd: ROOT, stdio: "ignore" });
  }
}, 300_000);

function listTs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listTs(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

describe("availability", () => {
  test("this build has the distributed engine", () => {
    expect(tt.distributed.isAvailable()).toBe(true);
  });

  test("rejects bad options before any native call", async () => {
    await expect(tt.distributed.initProcessGroup({ rank: 2, worldSize: 2 })).rejects.toThrow("Expected rank < worldSize (2) but received 2");
    await expect(tt.distributed.initProcessGroup({ rank: 0, worldSize: 1, backend: "mpi" as never })).rejects.toThrow(
      'Expected "gloo" or "nccl" for backend',
    );
    await expect(tt.distributed.initProcessGroup({ rank: 0, worldSize: 1, backend: "nccl" })).rejects.toThrow("nccl");
  });
});

describe("DistributedSampler", () => {
  test("2 ranks see exactly PyTorch's index sets (n = 10 and 11, shuffle on and off, dropLast)", () => {
    const cases: { n: number; shuffle: boolean; seed: number; epoch: number; dropLast: boolean }[] = [];
    for (const n of [10, 11, 1, 3])
      for (const shuffle of [true, false])
        for (const dropLast of [false, true])
          for (const [seed, epoch] of [[0, 0], [0, 3], [42, 1]]) cases.push({ n, shuffle, seed, epoch, dropLast });
    const expected = JSON.parse(
      runPython(
        `
import json, sys
from torch.utils.data import DistributedSampler
cases = json.loads(sys.argv[1])
out = []
for c in cases:
    ranks = []
    for rank in range(2):
        s = DistributedSampler(list(range(c["n"])), num_replicas=2, rank=rank, shuffle=c["shuffle"], seed=c["seed"], drop_last=c["dropLast"])
        s.set_epoch(c["epoch"])
        ranks.append(list(s))
    out.append(ranks)
print(json.dumps(out))
`,
        [JSON.stringify(cases)],
      ),
    ) as number[][][];
    cases.forEach((c, i) => {
      for (const rank of [0, 1]) {
        const sampler = new tt.distributed.DistributedSampler(c.n, { numReplicas: 2, rank, shuffle: c.shuffle, seed: c.seed, dropLast: c.dropLast });
        sampler.setEpoch(c.epoch);
        expect({ ...c, rank, indices: sampler.indices() }).toEqual({ ...c, rank, indices: expected[i][rank] });
        expect(sampler.length).toBe(expected[i][rank].length);
      }
    });
  });

  test("pads with the start of the list when there are more ranks than samples", () => {
    const parts = [0, 1, 2, 3, 4].map((rank) => new tt.distributed.DistributedSampler(2, { numReplicas: 5, rank, shuffle: false }).indices());
    expect(parts).toEqual([[0], [1], [0], [1], [0]]);
  });

  test("a DataLoader with a sampler loads that rank's indices in order", async () => {
    const dataset = { length: 11, get: async (i: number) => [tt.tensor(Float32Array.of(i), [1]), i] as [unknown, number] };
    const sampler = new tt.distributed.DistributedSampler(11, { numReplicas: 2, rank: 1, seed: 7 });
    sampler.setEpoch(2);
    const loader = new tt.DataLoader(dataset, { batchSize: 4, sampler, numWorkers: 2 });
    expect(loader.length).toBe(2);
    const seen: number[] = [];
    for await (const [x, y] of loader) {
      seen.push(...Array.from(await y.data(), Number));
      x.dispose();
      y.dispose();
    }
    expect(seen).toEqual(sampler.indices());
    expect(() => new tt.DataLoader(dataset, { sampler, shuffle: true })).toThrow("sampler option is mutually exclusive with shuffle");
  });

  test("rejects a rank outside the replicas", () => {
    expect(() => new tt.distributed.DistributedSampler(10, { numReplicas: 2, rank: 2 })).toThrow("Invalid rank 2");
  });
});

describe("ProcessGroup", () => {
  test("2 processes all-reduce over a TCPStore rendezvous", async () => {
    const port = await freePort();
    const results = await runRanks([0, 1].map((rank) => ({ mode: "allreduce", rank, worldSize: 2, port })));
    expect(results.map((r) => [r.ok, r.sum, r.size, r.message])).toEqual([
      [true, 3, 2, undefined],
      [true, 3, 2, undefined],
    ]);
  });

  test("a world of one: collectives are the identity, and a disposed group says so", async () => {
    const pg = await tt.distributed.initProcessGroup({ rank: 0, worldSize: 1, masterAddr: "127.0.0.1", masterPort: await freePort(), timeoutMs: 5000 });
    expect([pg.rank, pg.size, pg.backend]).toEqual([0, 1, "gloo"]);
    const t = tt.tensor(Float32Array.of(1, 2, 3), [3]);
    await pg.allReduce([t]);
    await pg.broadcast([t], 0);
    await pg.barrier();
    expect(Array.from((await t.data()) as Float32Array)).toEqual([1, 2, 3]);
    pg.dispose();
    expect(pg.isDisposed).toBe(true);
    await expect(pg.allReduce([t])).rejects.toThrow("rank 0 of 1");
    t.dispose();
  });
});

describe("DistributedDataParallel against PyTorch's DDP (2 processes, Gloo, CPU)", () => {
  let dir: string;
  let ours: WorkerResult[];

  beforeAll(async () => {
    requireTorchPython(); // fails, never skips, without Python's torch
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-ddp-"));
    const python = requireTorchPython();
    const py = spawnSync(python, [path.join(__dirname, "helpers", "ddp_parity.py"), dir, String(await freePort())], {
      encoding: "utf8",
      timeout: 300_000,
      env: { ...process.env, OMP_NUM_THREADS: "1" },
    });
    if (py.status !== 0) throw new Error(`PyTorch's DDP run failed: ${py.stderr}`);
    const port = await freePort();
    ours = await runRanks([0, 1].map((rank) => ({ mode: "parity", rank, worldSize: 2, port, dir })), { timeoutMs: 300_000 });
  }, 600_000);

  // ResNet-18 with 2 classes: 11,177,538 float32 parameters, of which fc has 512 * 2 + 2.
  const modes = [
    { mode: "finetune", what: "fine-tuning", trainableBytes: 11_177_538 * 4 },
    { mode: "fe", what: "feature extraction (frozen backbone)", trainableBytes: (512 * 2 + 2) * 4 },
  ] as const;

  describe.each(modes)("$what", ({ mode, trainableBytes }) => {
    test("the same losses on each rank for three SGD steps", () => {
      for (const rank of [0, 1]) {
        expect(ours[rank]).toMatchObject({ ok: true });
        const expected = JSON.parse(fs.readFileSync(path.join(dir, `py_${mode}_losses${rank}.json`), "utf8")) as number[];
        const got = (ours[rank][mode] as { losses: number[] }).losses;
        expect(got).toHaveLength(3);
        got.forEach((loss, i) => expect(Math.abs(loss - expected[i])).toBeLessThan(TOLERANCE));
      }
    });

    test("the same state dict on each rank (weights from rank 0, buffers broadcast before each forward)", async () => {
      for (const rank of [0, 1]) {
        const expected = await tt.load(path.join(dir, `py_${mode}_rank${rank}.pth`));
        const got = await tt.load(path.join(dir, `ours_${mode}_rank${rank}.safetensors`));
        expect([...got.keys()]).toEqual([...expected.keys()]);
        let worst = 0;
        for (const [name, e] of expected) {
          const a = await got.get(name)!.to("cpu", "float64").data();
          const b = await e.to("cpu", "float64").data();
          for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(Number(a[i]) - Number(b[i])));
        }
        expect(worst).toBeLessThan(TOLERANCE);
      }
    }, 600_000); // 2 x 11 M values read and compared: minutes on a loaded shared machine; the timeout only stops a hung run

    test("each step all-reduces the trainable gradients once, and only those", () => {
      for (const rank of [0, 1]) expect((ours[rank][mode] as { bytesPerStep: number }).bytesPerStep).toBe(trainableBytes);
    });
  });

  test("totals are summed over ranks", () => {
    expect(ours[0].totals).toEqual([3, 20]);
    expect(ours[1].totals).toEqual([3, 20]);
  });
});

describe("faults", () => {
  // "Within the timeout" is told by the message, not by a clock: the hint that names
  // a dead rank comes only from a closed connection, a timeout says "did not take part".
  test("a rank that dies makes the other fail with an error naming the ranks, within the timeout", async () => {
    const port = await freePort();
    const [survivor, dead] = await runRanks([0, 1].map((rank) => ({ mode: "die", rank, worldSize: 2, port, timeoutMs: 10_000 })));
    expect(dead).toMatchObject({ stage: "exit", exit: 0 }); // rank 1 left on purpose, printing nothing
    expect(survivor).toMatchObject({ ok: false, stage: "allReduce", exit: 0 });
    expect(survivor.message).toMatch(new RegExp(`^rank 0 of 2 \\(MASTER_ADDR:MASTER_PORT 127\\.0\\.0\\.1:${port}\\): allReduce failed \\(rank 1 has stopped or crashed\\): `));
    expect(survivor.message).not.toMatch(/did not take part|timed out|timeout/i);
  }, 60_000);

  // Gloo names only a socket address; the heartbeats in the store name the rank.
  test.each([
    { dies: 1, how: "exit" },
    { dies: 0, how: "SIGKILL" }, // rank 0 hosts the store: its going is the answer
  ])("3 ranks training: when rank $dies stops mid-training ($how), the others' errors name it, within the timeout", async ({ dies, how }) => {
    const port = await freePort();
    const timeoutMs = 10_000;
    const results = await runRanks([0, 1, 2].map((rank) => ({ mode: "dieTraining", rank, worldSize: 3, port, timeoutMs, dies, how })));
    expect(results[dies]).toMatchObject({ stage: "exit", exit: how === "exit" ? 3 : "SIGKILL" });
    const survivors = [0, 1, 2].filter((rank) => rank !== dies);
    for (const rank of survivors) {
      const r = results[rank];
      expect(r).toMatchObject({ ok: false, stage: "train", exit: 0 });
      expect(r.message).toMatch(new RegExp(`^rank ${rank} of 3 \\(MASTER_ADDR:MASTER_PORT 127\\.0\\.0\\.1:${port}\\): .* failed \\(rank ${dies} has stopped or crashed\\)`));
      expect(r.message).not.toMatch(/timed out|timeout/i); // a closed connection told it, not the timeout
    }
  }, 60_000);

  test("3 ranks training: a rank that stalls but lives is not called dead; the others time out saying so", async () => {
    const port = await freePort();
    const timeoutMs = 3000;
    // Rank 2 stalls, its heartbeat going on, until the others have reported; then the test kills it.
    const results = await runRanks([0, 1, 2].map((rank) => ({ mode: "dieTraining", rank, worldSize: 3, port, timeoutMs, dies: 2, how: "stall" })), {
      killAfterOthers: 2,
    });
    expect(results[2]).toMatchObject({ stage: "exit", exit: "SIGKILL" });
    for (const rank of [0, 1]) {
      expect(results[rank]).toMatchObject({ ok: false, stage: "train", exit: 0 });
      expect(results[rank].message).toContain(`rank ${rank} of 3`);
      expect(results[rank].message).toContain(`(another rank did not take part within the timeout of ${timeoutMs} ms)`);
      expect(results[rank].message).not.toContain("stopped or crashed");
    }
  }, 60_000);

  test("a rendezvous that never completes times out naming MASTER_ADDR:MASTER_PORT", async () => {
    const port = await freePort();
    // rank 1 waits for a rank 0 that never comes
    await expect(
      tt.distributed.initProcessGroup({ rank: 1, worldSize: 2, masterAddr: "127.0.0.1", masterPort: port, timeoutMs: 2000 }),
    ).rejects.toThrow(`rank 1 of 2 (MASTER_ADDR:MASTER_PORT 127.0.0.1:${port}): the rendezvous at 127.0.0.1:${port} did not complete within 2000 ms`);
    // rank 0 waits for a rank 1 that never comes
    await expect(
      tt.distributed.initProcessGroup({ rank: 0, worldSize: 2, masterAddr: "127.0.0.1", masterPort: port, timeoutMs: 2000 }),
    ).rejects.toThrow(`the rendezvous at 127.0.0.1:${port} did not complete within 2000 ms`);
  }, 30_000);

  test("a port already taken is reported as such", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(
        tt.distributed.initProcessGroup({ rank: 0, worldSize: 2, masterAddr: "127.0.0.1", masterPort: port, timeoutMs: 2000 }),
      ).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      server.close();
    }
  });
});
