// A run killed with SIGKILL and resumed gives what the uninterrupted run gives,
// bit for bit: every epoch's figures, the last and the best weights, the
// momentum buffers, and the random streams it would draw from next.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { freePort, jsonLines, runCli, runCliUntil, subset } from "./helpers/cli";

let tmp: string;
let small: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-resume-"));
  small = subset(path.join(tmp, "data"), 4);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** history.json without the timings, which are the only thing allowed to differ. */
function figures(out: string) {
  const history = JSON.parse(fs.readFileSync(path.join(out, "history.json"), "utf8")) as Record<string, number | string>[];
  return history.map(({ epoch, phase, loss, acc, images }) => ({ epoch, phase, loss, acc, images }));
}

async function checkpointState(out: string) {
  const meta = await tt.loadSafetensorsMetadata(path.join(out, "checkpoint.safetensors"));
  return JSON.parse(meta!.state);
}

/** Every tensor of a safetensors file as raw bytes, by name. */
async function tensorBytes(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [name, t] of await tt.load(file)) {
    const data = await t.data();
    out.set(name, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    t.dispose();
  }
  return out;
}

async function expectSameTensors(a: string, b: string) {
  const [x, y] = [await tensorBytes(a), await tensorBytes(b)];
  expect([...y.keys()]).toEqual([...x.keys()]);
  const differing = [...x].filter(([name, bytes]) => !bytes.equals(y.get(name)!)).map(([name]) => name);
  expect(differing).toEqual([]);
}

const EPOCH_1_WRITTEN = (stdout: string) => stdout.includes('"epoch":1,"phase":"val"');

describe.each([
  ["finetune", []],
  ["featureExtract", []],
  ["finetune", ["--nproc-per-node", "2"]],
])("%s %j", (command, extra) => {
  test("resumed after SIGKILL once epoch 1 is written, it ends bit for bit where the uninterrupted run ends", async () => {
    const name = `${command}${extra.length ? "-ddp" : ""}`;
    // --step-size 1: the learning rate changes every epoch, so a scheduler not carried over would show.
    const common = ["--data", small, "--epochs", "3", "--step-size", "1", "--weights", "none", "--seed", "7", "--json", "--no-report", "--batch-size", "4"];
    const port = async () => (extra.length ? ["--master-port", String(await freePort())] : []);

    const whole = path.join(tmp, `${name}-whole`);
    const uninterrupted = runCli(command, [...common, ...extra, ...(await port()), "--out", whole]);
    expect(uninterrupted.stderr).toBe("");
    expect(uninterrupted.status).toBe(0);

    const killedOut = path.join(tmp, `${name}-killed`);
    // The whole group: with --nproc-per-node the workers die with their launcher, as on a crash.
    const killed = await runCliUntil(command, [...common, ...extra, ...(await port()), "--out", killedOut], EPOCH_1_WRITTEN, (pid) => process.kill(-pid, "SIGKILL"));
    expect(killed.acted).toBe(true);
    expect(killed.status).toBeNull(); // killed, not exited
    expect(jsonLines(killed.stdout).some((l) => l.epoch === 2 && l.phase === "val")).toBe(false);
    // The val line of an epoch is printed once that epoch's checkpoint is written.
    expect((await checkpointState(killedOut)).epoch).toBe(1);

    const resumed = runCli(command, ["--resume", killedOut, "--json", "--no-report", ...extra, ...(await port())]);
    expect(resumed.stderr).toBe("");
    expect(resumed.status).toBe(0);
    expect(jsonLines(resumed.stdout).filter((l) => l.phase).map((l) => [l.epoch, l.phase])).toEqual([[2, "train"], [2, "val"]]);

    expect(figures(killedOut)).toEqual(figures(whole));
    expect(jsonLines(resumed.stdout).at(-1)!.bestValAcc).toBe(jsonLines(uninterrupted.stdout).at(-1)!.bestValAcc);
    // The best weights, and the last ones with their momentum buffers.
    expect(fs.readFileSync(path.join(killedOut, "model.safetensors")).equals(fs.readFileSync(path.join(whole, "model.safetensors")))).toBe(true);
    await expectSameTensors(path.join(whole, "checkpoint.safetensors"), path.join(killedOut, "checkpoint.safetensors"));
    const [a, b] = [await checkpointState(whole), await checkpointState(killedOut)];
    expect(b.rng).toEqual(a.rng);
    expect(b.scheduler).toEqual(a.scheduler);
  }, 900_000); // six epochs in all, on 8 + 8 images: a limit for a hung child, not a speed check
});
