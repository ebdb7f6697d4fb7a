// fastai's lr_find (Leslie Smith's range test): train on batches with the
// learning rate growing exponentially from startLr to endLr over numIt
// batches, record the smoothed loss, stop once it passes 4x its minimum, then
// put the weights and the optimizer back as they were. Suggestions as fastai
// computes them: "valley" (its default, which we print) and "steep".
import { checkBoolean, checkInteger, checkNumber, checkOptions, invalid } from "../check";
import { checkDevice, defaultDevice } from "../device";
import { withGradEnabled } from "../grad";
import { CrossEntropyLoss } from "../nn/loss";
import { Module } from "../nn/module";
import { Optimizer, OptimizerStateDict } from "../optim/optimizer";
import { Tensor } from "../tensor";
import { cloneStateDict, disposeStateDict } from "./stateDicts";
import { BatchSource } from "./trainModel";

export interface LrFindOptions {
  startLr?: number;
  endLr?: number;
  numIt?: number;
  /** Stop once the smoothed loss is above 4 times its minimum (default true). */
  stopDiv?: boolean;
  /** The loss's exponential smoothing (fastai's AvgSmoothLoss, default 0.98). */
  beta?: number;
  device?: string;
}

const OPTIONS: Record<keyof LrFindOptions, true> = { startLr: true, endLr: true, numIt: true, stopDiv: true, beta: true, device: true };

export interface LrFindResult {
  /** The learning rate of each batch trained, and the smoothed loss after it. */
  lrs: number[];
  losses: number[];
  /** fastai's suggestions over lrs[numIt/10 : -5]: the longest valley's point 2/3 down (default), and the steepest descent. */
  suggestion: { valley: number; steep: number } | null;
  /** Indices into lrs/losses of the suggested points. */
  suggestionIndex: { valley: number; steep: number } | null;
}

export async function lrFind(
  model: Module, criterion: CrossEntropyLoss, optimizer: Optimizer, loader: BatchSource, options: LrFindOptions = {},
): Promise<LrFindResult> {
  if (!(model instanceof Module)) throw invalid("Module", "model", model);
  if (!(criterion instanceof CrossEntropyLoss)) throw invalid("CrossEntropyLoss", "criterion", criterion);
  if (!(optimizer instanceof Optimizer)) throw invalid("Optimizer (SGD, Adam or AdamW)", "optimizer", optimizer);
  if (!loader || typeof loader[Symbol.asyncIterator] !== "function") throw invalid("DataLoader", "loader", loader);
  const o = checkOptions(options, OPTIONS, "lrFind");
  const startLr = checkNumber(o.startLr ?? 1e-7, "startLr", { min: Number.MIN_VALUE });
  const endLr = checkNumber(o.endLr ?? 10, "endLr", { min: Number.MIN_VALUE });
  // fastai: fewer than 6 iterations leave nothing to suggest from.
  const numIt = Math.max(6, checkInteger(o.numIt ?? 100, "numIt", 1));
  const stopDiv = checkBoolean(o.stopDiv ?? true, "stopDiv");
  const beta = checkNumber(o.beta ?? 0.98, "beta", { min: 0, max: 0.999999 });
  const device = checkDevice(o.device ?? defaultDevice());

  const weights = cloneStateDict(model.stateDict());
  const saved = optimizer.stateDict();
  const savedState = cloneOptimizerState(saved);
  const wasTraining = model.training;
  const lrs: number[] = [];
  const losses: number[] = [];
  try {
    model.train();
    let avg = 0;
    let best = Infinity;
    let iteration = 0;
    outer: while (iteration < numIt) {
      let batches = 0;
      for await (const [inputs, labels] of loader) {
        batches++;
        const lr = startLr * (endLr / startLr) ** (iteration / numIt);
        for (const group of optimizer.paramGroups) group.lr = lr;
        const onDevice = device === "cpu" ? [inputs, labels] : [inputs.to(device), labels.to(device)];
        let loss: number;
        try {
          ({ loss } = await withGradEnabled(true, () => model.runBatch(optimizer.native, onDevice[0], onDevice[1], true, criterion.nativeOptions)));
        } finally {
          if (device !== "cpu") onDevice.forEach((t) => t.dispose());
          inputs.dispose();
          labels.dispose();
        }
        iteration++;
        // torch.lerp(loss, avg, beta), debiased as fastai's AvgSmoothLoss.value.
        avg = loss + beta * (avg - loss);
        const smooth = avg / (1 - beta ** iteration);
        lrs.push(lr);
        losses.push(smooth);
        if (smooth < best) best = smooth;
        // A NaN compares false both ways: as in fastai, the run goes on and the suggestions stop at the first NaN.
        if ((stopDiv && smooth > 4 * best) || iteration >= numIt) break outer;
      }
      if (batches === 0) throw new Error("lrFind: the data loader gave no batches");
    }
  } finally {
    model.loadStateDict(weights);
    disposeStateDict(weights);
    optimizer.loadStateDict(savedState);
    for (const entry of Object.values(savedState.state)) for (const v of Object.values(entry)) if (typeof v !== "number") v.dispose();
    optimizer.zeroGrad();
    model.train(wasTraining);
  }
  return { lrs, losses, ...suggest(lrs, losses, numIt) };
}

function cloneOptimizerState(sd: OptimizerStateDict): OptimizerStateDict {
  const state: OptimizerStateDict["state"] = {};
  for (const [i, entry] of Object.entries(sd.state)) {
    state[Number(i)] = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, typeof v === "number" ? v : (v as Tensor).detach()]));
  }
  return { state, paramGroups: sd.paramGroups };
}

/** fastai's lr_find suggestions: over lrs[numIt // 10 : -5], cut at the first NaN. */
export function suggest(lrs: number[], losses: number[], numIt: number): Pick<LrFindResult, "suggestion" | "suggestionIndex"> {
  const from = Math.floor(numIt / 10);
  let to = Math.max(from, lrs.length - 5);
  const nan = losses.slice(from, to).findIndex(Number.isNaN);
  if (nan >= 0) to = from + nan;
  if (to - from < 2) return { suggestion: null, suggestionIndex: null };
  const x = lrs.slice(from, to);
  const y = losses.slice(from, to);
  const v = valley(y);
  const s = steep(x, y);
  return { suggestion: { valley: x[v], steep: x[s] }, suggestionIndex: { valley: from + v, steep: from + s } };
}

/** fastai's valley: the longest decreasing run of losses, and the point about 2/3 of the way down it. */
export function valley(losses: number[]): number {
  const n = losses.length;
  let maxStart = 0;
  let maxEnd = 0;
  const lds = new Array<number>(n).fill(1);
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
      if (lds[maxEnd] < lds[i]) {
        maxEnd = i;
        maxStart = maxEnd - lds[maxEnd];
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  return maxStart + Math.trunc(sections) + Math.trunc(sections / 2);
}

/** fastai's steep: where the loss falls fastest against log(lr) (the first such point). */
export function steep(lrs: number[], losses: number[]): number {
  let best = 0;
  let bestGrad = Infinity;
  for (let i = 0; i + 1 < lrs.length; i++) {
    const g = (losses[i + 1] - losses[i]) / (Math.log(lrs[i + 1]) - Math.log(lrs[i]));
    if (g < bestGrad) {
      bestGrad = g;
      best = i;
    }
  }
  return best;
}
