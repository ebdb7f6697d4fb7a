// The flags every command that loads or places a model shares, checked as
// usage errors (exit 2) rather than as the library's own errors.
import { checkDevice } from "../device";
import { modelFileOf } from "../train/checkpoint";
import { UsageError } from "./usage";

/** --device, checked: the string, and that the device exists here. */
export function deviceFlag(device: string): string {
  try {
    return checkDevice(device, "--device");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** --model: a model file, or a run folder meaning its model.safetensors. */
export function modelFlag(model: string): Promise<string> {
  return modelFileOf(model).catch((err: Error) => {
    throw new UsageError(`--model: ${err.message}`);
  });
}
