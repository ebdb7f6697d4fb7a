// What `amp` means on a device, as PyTorch's recipes use it: on CUDA,
// float16 autocast with a GradScaler (torch.cuda.amp); on CPU, bfloat16
// autocast without one (torch.autocast("cpu"): bfloat16 has float32's range,
// so nothing underflows), where the CPU makes it pay.
import { NativeAmpOptions } from "../native";
import { cpuBf16Enabled } from "./cpuBf16";
import { GradScaler } from "./gradScaler";

export interface AmpPlan {
  /** @internal What each step runs under; null: plain float32. */
  native: NativeAmpOptions | null;
  scaler: GradScaler | null;
  /** One line for the run's header or a warning. */
  description: string;
  /** Asked for, but float32 instead (a CPU without fast bfloat16). */
  fellBack: boolean;
}

/** `cpuinfo`: /proc/cpuinfo's text, read when absent. */
export function ampPlan(device: string, scaler?: GradScaler | null, cpuinfo?: string): AmpPlan {
  if (device.startsWith("cuda")) {
    const s = scaler ?? new GradScaler();
    return { native: { device: "cuda", dtype: "float16", scaler: s.enabled ? s.native : null }, scaler: s, description: "float16 autocast with a GradScaler", fellBack: false };
  }
  const bf16 = cpuBf16Enabled(process.env, cpuinfo);
  if (!bf16.enabled) {
    const why = process.env.TORCH_TRANSFER_CPU_BF16 === "0" ? bf16.why : `${bf16.why}, without which bfloat16 autocast is slower than float32 (TORCH_TRANSFER_CPU_BF16=1 forces it)`;
    return { native: null, scaler: null, fellBack: true, description: `amp on cpu runs float32: ${why}` };
  }
  return { native: { device: "cpu", dtype: "bfloat16" }, scaler: null, description: `bfloat16 autocast (${bf16.why})`, fellBack: false };
}
