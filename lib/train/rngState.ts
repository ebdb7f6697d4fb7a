// Every random stream a training run draws from, captured after an epoch so a
// resumed run draws exactly what the uninterrupted one would have drawn next.
import { defaultGenerator, Generator } from "../random";
import { getRngState, setRngState } from "../runtime";

export interface RngState {
  /** The transforms' default generator (used by anything given no generator of its own). */
  global: number[];
  /** libtorch's default CPU generator, base64: weight init, and dropout in models that have it. */
  torch: string;
  /** Each data loader's generator: its next epoch's shuffle and per-sample transform seeds. */
  loaders: Record<string, number[]>;
}

export function captureRng(loaders: Record<string, { generator: Generator }>): RngState {
  return {
    global: defaultGenerator.getState(),
    torch: Buffer.from(getRngState()).toString("base64"),
    loaders: Object.fromEntries(Object.entries(loaders).map(([name, l]) => [name, l.generator.getState()])),
  };
}

/**
 * Puts back what captureRng took. A loader the checkpoint has no state for
 * (one written by data-parallel ranks, which reseed per epoch) keeps its seed.
 */
export function restoreRng(state: RngState, loaders: Record<string, { generator: Generator }>): void {
  defaultGenerator.setState(state.global);
  const torch = Buffer.from(state.torch, "base64");
  setRngState(new Uint8Array(torch.buffer, torch.byteOffset, torch.byteLength));
  for (const [name, loader] of Object.entries(loaders)) {
    const saved = state.loaders[name];
    if (saved) loader.generator.setState(saved);
  }
}
