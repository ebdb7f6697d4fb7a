// lib/mkldnnProbe.ts: on libtorch 2.x, oneDNN's sum primitive kills the
// process with SIGFPE on CPUs whose hypervisor zeroes CPUID's topology leaves
// (native/torch_compat.h), so the fast eval form uses oneDNN's blocked layout
// only after a child process has run it. The probe must agree with what such a
// child really does on this machine, and where the layout is off the fast form
// must run channels_last and give the same logits.
import { spawnSync } from "child_process";
import * as tt from "../lib";
import { addon, addonFile } from "../lib/native";
import { decideMkldnn, probeMkldnn } from "../lib/mkldnnProbe";

// What this machine does: the addon's self-test run in a child process, as the probe runs it.
function childRunsMkldnn(): { ok: boolean; how: string } {
  const r = spawnSync(process.execPath, ["-e", "require(process.argv[1]).mkldnnSelfTest();", addonFile], { encoding: "utf8", timeout: 120_000 });
  return { ok: r.status === 0 && r.signal === null, how: `status ${r.status}, signal ${r.signal}, stderr ${r.stderr.slice(-300)}` };
}

test("the probe's answer is what a child process running oneDNN's blocked tensors shows on this machine", async () => {
  const probe = await probeMkldnn();
  const child = childRunsMkldnn();
  expect({ usable: probe.usable, why: probe.why }).toEqual({ usable: child.ok, why: expect.any(String) });
  expect(addon.mkldnnUsable()).toBe(probe.usable);
  if (addon.libtorchVersion().startsWith("1.")) expect(probe.why).toBe(`trusted on libtorch ${addon.libtorchVersion()}`);
  else expect(probe.why).toMatch(child.ok ? /ran oneDNN's blocked tensors/ : /died of SIG|exited with/);
});

test("where the layout is off, the default fast form runs channels_last, rebuilt from a mkldnn build, with the same logits", async () => {
  const before = addon.mkldnnUsable();
  tt.manualSeed(3);
  const model = tt.models.resnet18({ numClasses: 3 });
  model.eval();
  const x = tt.tensor(Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.1)), [2, 3, 32, 32]);
  try {
    const plain = await tt.noGrad(() => model.forward(x));
    const expected = (await plain.data()) as Float32Array;
    plain.dispose();
    addon.setMkldnnUsable(false);
    const y = await model.inferenceForward(x);
    expect((await model.inferenceInfo()).layout).toBe("channels_last");
    const got = (await y.data()) as Float32Array;
    y.dispose();
    const scale = Math.max(...expected.map(Math.abs));
    // Folding and oneDNN's summation order: float32 rounding, about 1e-6 of the largest logit (inference.test.ts).
    expect(Math.max(...got.map((v, i) => Math.abs(v - expected[i])))).toBeLessThanOrEqual(1e-4 * scale);
    if (childRunsMkldnn().ok) {
      // Turned on again, the plan built without it is rebuilt in oneDNN's layout.
      addon.setMkldnnUsable(true);
      (await model.inferenceForward(x)).dispose();
      expect(await model.inferenceInfo()).toMatchObject({ layout: "mkldnn", builds: 2 });
    }
  } finally {
    addon.setMkldnnUsable(before);
    x.dispose();
    model.dispose();
  }
});

test("TORCH_TRANSFER_MKLDNN=0 turns the layout off and =1 trusts it, without a child process", async () => {
  const before = addon.mkldnnUsable();
  try {
    for (const value of ["0", "1"]) {
      expect(await decideMkldnn({ TORCH_TRANSFER_MKLDNN: value })).toEqual({ usable: value === "1", why: `TORCH_TRANSFER_MKLDNN=${value}` });
      expect(addon.mkldnnUsable()).toBe(value === "1");
    }
  } finally {
    addon.setMkldnnUsable(before);
  }
});
