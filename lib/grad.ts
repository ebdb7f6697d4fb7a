// Grad mode, as torch.no_grad() and torch.set_grad_enabled() give it. libtorch
// keeps grad mode per thread, and our work runs on libuv's pool, so the mode
// lives here, follows async calls through AsyncLocalStorage, and travels with
// each native call.
import { AsyncLocalStorage } from "async_hooks";

const storage = new AsyncLocalStorage<boolean>();
let globalEnabled = true;

export function isGradEnabled(): boolean {
  return storage.getStore() ?? globalEnabled;
}

/** Sets grad mode for code that does not run inside noGrad()/enableGrad(). */
export function setGradEnabled(enabled: boolean): void {
  globalEnabled = enabled;
}

/** Runs `fn` (and everything it awaits) with gradients off, like `with torch.no_grad():`. */
export function noGrad<T>(fn: () => T): T {
  return storage.run(false, fn);
}

/** Runs `fn` with gradients set to `enabled`, like `with torch.set_grad_enabled(enabled):`. */
export function withGradEnabled<T>(enabled: boolean, fn: () => T): T {
  return storage.run(enabled, fn);
}
