// torch.autocast as a scope: `await tt.amp.autocast({ deviceType: "cuda" }, () => model.forward(x))`
// runs the forward's eligible ops in float16 (CUDA) or bfloat16 (CPU).
// libtorch keeps autocast per thread and our forwards run on the compute
// thread, so the state lives here, follows async calls through
// AsyncLocalStorage, and travels with each forward, as grad mode does (grad.ts).
import { AsyncLocalStorage } from "async_hooks";
import { checkBoolean, checkOptions, invalid } from "../check";
import { NativeAmpOptions } from "../native";

export interface AutocastOptions {
  /** "cuda" or "cpu", as torch.autocast's device_type. */
  deviceType: "cuda" | "cpu";
  /** PyTorch's defaults: float16 on CUDA, bfloat16 on CPU. */
  dtype?: "float16" | "bfloat16";
  enabled?: boolean;
}

const storage = new AsyncLocalStorage<NativeAmpOptions | null>();

/** @internal The autocast the current async context runs under, if any. */
export function currentAutocast(): NativeAmpOptions | null {
  return storage.getStore() ?? null;
}

export function autocast<T>(options: AutocastOptions, fn: () => T): T {
  if (typeof options !== "object" || options === null) throw invalid("options object ({ deviceType, dtype })", "options", options);
  const o = checkOptions(options, { deviceType: true, dtype: true, enabled: true }, "autocast");
  if (o.deviceType !== "cuda" && o.deviceType !== "cpu") throw invalid('"cuda" or "cpu"', "deviceType", o.deviceType);
  const dtype = o.dtype ?? (o.deviceType === "cuda" ? "float16" : "bfloat16");
  if (dtype !== "float16" && dtype !== "bfloat16") throw invalid('"float16" or "bfloat16"', "dtype", dtype);
  const enabled = o.enabled === undefined ? true : checkBoolean(o.enabled, "enabled");
  if (typeof fn !== "function") throw invalid("function", "fn", fn);
  return storage.run(enabled ? { device: o.deviceType, dtype } : null, fn);
}
