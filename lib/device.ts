// Device strings as PyTorch writes them: "cpu", "cuda", "cuda:N".
import { invalid } from "./check";
import { addon } from "./native";

const DEVICE = /^(cpu|cuda)(:(\d+))?$/;

export function checkDevice(value: unknown, name = "device"): string {
  const match = typeof value === "string" ? DEVICE.exec(value) : null;
  if (!match || (match[1] === "cpu" && match[3] !== undefined && match[3] !== "0")) {
    throw invalid('device string "cpu", "cuda" or "cuda:N"', name, value);
  }
  if (match[1] === "cuda") {
    if (!addon.cudaIsAvailable()) {
      throw new Error(
        addon.cudaIsBuilt()
          ? `${name} "${value}" needs CUDA, and this CUDA libtorch (${addon.libtorchVersion()}) finds no CUDA device (no GPU, or no driver); use "cpu"`
          : `${name} "${value}" needs CUDA, but this libtorch (${addon.libtorchVersion()}) was built without CUDA; ` +
            'use "cpu", or rebuild torch-transfer against a CUDA libtorch (see the README)',
      );
    }
    const index = match[3] === undefined ? 0 : Number(match[3]);
    const count = addon.cudaDeviceCount();
    if (index >= count) throw new Error(`${name} "${value}" does not exist: this machine has ${count} CUDA device(s)`);
  }
  return value as string;
}

/** The tutorial's choice: the first GPU when there is one. */
export function defaultDevice(): string {
  return addon.cudaIsAvailable() ? "cuda:0" : "cpu";
}
