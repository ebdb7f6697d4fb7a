// lib/layoutProbe.ts: on libtorch 2.x, oneDNN 3.x kills the process with
// SIGFPE, or computes wrong values, in channels_last and mkldnn layouts on CPUs
// whose hypervisor zeroes CPUID's topology leaves (native/torch_compat.h), so
// the fast eval form uses a layout only after a child process has run it
// against NCHW. The probe must agree with what such a child really does on this
// machine, and a refused layout must fall back and still give the same logits.
import { spawnSync } from "child_process";
import * as tt from "../lib";
import { addon, addonFile } from "../lib/native";
import { decideLayouts, FastLayout, probeLayouts } from "../lib/layoutProbe";

// Folding and oneDNN's summation order: float32 rounding, about 1e-6 of the largest logit (inference.test.ts).
const RELATIVE_TOLERANCE = 1e-4;
const LAYOUTS: FastLayout[] = ["channels_last", "mkldnn"];

// What this machine does: the addon's self-test of a layout in a child process, as the probe runs it.
function childRuns(layout: FastLayout): boolean {
  const r = spawnSync(process.execPath, ["-e", "console.log(require(process.argv[1]).layoutSelfTest(process.argv[2]))", addonFile, layout], {
    encoding: "utf8",
    timeout: 120_000,
  });
  return r.status === 0 && r.signal === null && Number(r.stdout.trim()) <= RELATIVE_TOLERANCE;
}

test("the probe's answer for each layout is what a child process running it shows on this machine", async () => {
  const trusted = addon.libtorchVersion().startsWith("1.");
  // On 2.x a process starts with both refused; another test file may have probed already in this one.
  if (!trusted) for (const layout of LAYOUTS) addon.setLayoutUsable(layout, false);
  const probes = await decideLayouts({});
  for (const layout of LAYOUTS) {
    expect({ layout, usable: probes[layout].usable }).toEqual({ layout, usable: childRuns(layout) });
    expect(addon.layoutUsable(layout)).toBe(probes[layout].usable);
    if (layout === "mkldnn" && addon.oneDnnOff) expect(probes[layout].why).toBe(`oneDNN is off: ${addon.oneDnnOff}`);
    else if (trusted) expect(probes[layout].why).toBe(`trusted on libtorch ${addon.libtorchVersion()}`);
    else expect(probes[layout].why).toMatch(probes[layout].usable ? /ran .* within .* of NCHW/ : /died of SIG|exited with|differ from NCHW/);
  }
});

test("the self-test measures a layout against NCHW: contiguous against itself is exact", () => {
  expect(addon.layoutSelfTest("contiguous")).toBe(0);
});

describe("a refused layout falls back, rebuilt from the last build, with the same logits", () => {
  let before: Record<FastLayout, boolean>;
  let model: tt.models.ResNet;
  let x: tt.Tensor;
  let expected: Float32Array;
  beforeAll(async () => {
    await probeLayouts();
    before = { channels_last: addon.layoutUsable("channels_last"), mkldnn: addon.layoutUsable("mkldnn") };
    tt.manualSeed(3);
    model = tt.models.resnet18({ numClasses: 3 });
    model.eval();
    x = tt.tensor(Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.1)), [2, 3, 32, 32]);
    const plain = await tt.noGrad(() => model.forward(x));
    expected = (await plain.data()) as Float32Array;
    plain.dispose();
  });
  afterAll(() => {
    for (const layout of LAYOUTS) addon.setLayoutUsable(layout, before[layout]);
    x.dispose();
    model.dispose();
  });

  async function expectLayout(layout: tt.InferenceLayout): Promise<void> {
    const y = await model.inferenceForward(x);
    expect((await model.inferenceInfo()).layout).toBe(layout);
    const got = (await y.data()) as Float32Array;
    y.dispose();
    const scale = Math.max(...expected.map(Math.abs));
    expect(Math.max(...got.map((v, i) => Math.abs(v - expected[i])))).toBeLessThanOrEqual(RELATIVE_TOLERANCE * scale);
  }

  test("mkldnn refused: channels_last where that runs, else contiguous; both refused: contiguous", async () => {
    addon.setLayoutUsable("mkldnn", false);
    await expectLayout(before.channels_last ? "channels_last" : "contiguous");
    addon.setLayoutUsable("channels_last", false);
    await expectLayout("contiguous");
  });

  test("allowed again where it runs, the plan is rebuilt in it (and kept where nothing changed)", async () => {
    const builds = (await model.inferenceInfo()).builds;
    addon.setLayoutUsable("channels_last", before.channels_last);
    addon.setLayoutUsable("mkldnn", before.mkldnn);
    await expectLayout(before.mkldnn ? "mkldnn" : before.channels_last ? "channels_last" : "contiguous");
    expect((await model.inferenceInfo()).builds).toBe(before.mkldnn || before.channels_last ? builds + 1 : builds);
  });
});

test("TORCH_TRANSFER_FAST_LAYOUTS=0 keeps NCHW and =1 trusts both (mkldnn not where oneDNN is off), without a child process", async () => {
  const before = LAYOUTS.map((l) => addon.layoutUsable(l));
  try {
    for (const value of ["0", "1"]) {
      const probes = await decideLayouts({ TORCH_TRANSFER_FAST_LAYOUTS: value });
      for (const layout of LAYOUTS) {
        const off = value === "1" && layout === "mkldnn" && addon.oneDnnOff !== "";
        expect(probes[layout]).toEqual(off ? { usable: false, why: `oneDNN is off: ${addon.oneDnnOff}` } : { usable: value === "1", why: `TORCH_TRANSFER_FAST_LAYOUTS=${value}` });
        expect(addon.layoutUsable(layout)).toBe(value === "1" && !off);
      }
    }
  } finally {
    LAYOUTS.forEach((l, i) => addon.setLayoutUsable(l, before[i]));
  }
});
