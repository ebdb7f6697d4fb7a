// Whether bfloat16 autocast is worth it on this CPU: oneDNN's bfloat16
// kernels are fast only with AVX512_BF16 or AMX; elsewhere they emulate
// bfloat16 with float32 instructions and are slower than plain float32.
import * as fs from "fs";

/** The instruction-set flags that make bfloat16 fast, as Linux names them in /proc/cpuinfo. */
export const BF16_FLAGS = ["avx512_bf16", "amx_bf16"] as const;

/** The bfloat16 flags this CPU has (empty where none, or where /proc/cpuinfo cannot be read). */
export function cpuBf16Flags(cpuinfo = readCpuinfo()): string[] {
  const line = cpuinfo.split("\n").find((l) => /^flags\s*:/.test(l));
  if (!line) return [];
  const flags = new Set(line.replace(/^flags\s*:/, "").trim().split(/\s+/));
  return BF16_FLAGS.filter((f) => flags.has(f));
}

function readCpuinfo(): string {
  try {
    return fs.readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return "";
  }
}

/**
 * Whether `--amp` on CPU runs bfloat16 autocast here. TORCH_TRANSFER_CPU_BF16=1
 * forces it on (correct, only slow, without the instructions), =0 off;
 * otherwise the CPU's flags decide.
 */
export function cpuBf16Enabled(env: NodeJS.ProcessEnv = process.env, cpuinfo?: string): { enabled: boolean; why: string } {
  const forced = env.TORCH_TRANSFER_CPU_BF16;
  if (forced === "1") return { enabled: true, why: "forced on by TORCH_TRANSFER_CPU_BF16=1" };
  if (forced === "0") return { enabled: false, why: "turned off by TORCH_TRANSFER_CPU_BF16=0" };
  const flags = cpuBf16Flags(cpuinfo);
  return flags.length
    ? { enabled: true, why: `this CPU has ${flags.join(" and ")}` }
    : { enabled: false, why: "this CPU has neither AVX512_BF16 nor AMX" };
}
