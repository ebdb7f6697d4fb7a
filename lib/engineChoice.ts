// engine "auto": which of the available inference backends runs a batch of
// the classifier's own size fastest on this machine, timed at load.
import type { ClassifierEngine, InferenceBackend } from "./classifier";
import { Tensor } from "./tensor";

/** Seconds one batch takes on an engine; `runBatch` runs one batch. The default times warm-up then median of several runs. */
export type EngineTimer = (engine: ClassifierEngine, runBatch: () => Promise<void>) => Promise<number>;

/** What `engine: "auto"` measured: seconds per batch for each engine it could run, and why any it could not. */
export interface EngineChoice {
  chosen: ClassifierEngine;
  batch: number;
  secondsPerBatch: Partial<Record<ClassifierEngine, number>>;
  failed: Partial<Record<ClassifierEngine, string>>;
}

const WARMUP = 2;
const TIMED = 5;

/** 2 warm-up batches (the fast form's build, onnxruntime's first-run allocations), then the median of 5. */
export const timeBatches: EngineTimer = async (_engine, runBatch) => {
  for (let i = 0; i < WARMUP; i++) await runBatch();
  const seconds: number[] = [];
  for (let i = 0; i < TIMED; i++) {
    const t = process.hrtime.bigint();
    await runBatch();
    seconds.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return seconds.sort((a, b) => a - b)[Math.floor(TIMED / 2)];
};

/**
 * Times each backend on `batch` copies of `makeInput()` with `timer` and
 * resolves to the fastest. A backend that fails to run is left out (its
 * reason kept); when every one fails, the first one's error is thrown. Ties go
 * to the earlier candidate. The losers are not disposed here.
 */
export async function chooseEngine(
  candidates: InferenceBackend[], makeInput: () => Tensor, batch: number, timer: EngineTimer = timeBatches,
): Promise<{ backend: InferenceBackend; choice: EngineChoice }> {
  const secondsPerBatch: EngineChoice["secondsPerBatch"] = {};
  const failed: EngineChoice["failed"] = {};
  let best: InferenceBackend | null = null;
  let firstError: unknown = null;
  for (const backend of candidates) {
    const runBatch = async () => {
      const inputs = Array.from({ length: batch }, makeInput);
      try {
        await backend.run(inputs);
      } finally {
        inputs.forEach((x) => x.dispose());
      }
    };
    try {
      const seconds = await timer(backend.engine, runBatch);
      if (!(typeof seconds === "number" && seconds >= 0)) throw new Error(`timing gave ${String(seconds)}, not a number of seconds`);
      secondsPerBatch[backend.engine] = seconds;
      if (best === null || seconds < secondsPerBatch[best.engine]!) best = backend;
    } catch (err) {
      failed[backend.engine] = (err as Error).message ?? String(err);
      firstError ??= err;
    }
  }
  if (best === null) throw firstError;
  return { backend: best, choice: { chosen: best.engine, batch, secondsPerBatch, failed } };
}
