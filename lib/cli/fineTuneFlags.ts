// --freeze-epochs and --backbone-lr-mult, checked as usage errors.
import { FineTuneSettings } from "../train/fineTune";
import { UsageError } from "./usage";

/** The command's checks of --freeze-epochs, as usage errors. */
export function checkFreezeFlags(s: FineTuneSettings, mode: string): void {
  if (!s.freezeEpochs) return;
  const fail = (message: string) => {
    throw new UsageError(message);
  };
  if (mode !== "finetune") fail("--freeze-epochs is for finetune (feature-extract keeps the backbone frozen throughout)");
  // --freeze-epochs at or above --epochs: every epoch frozen (a --resume with more epochs goes on unfrozen).
  if (s.epochs > s.freezeEpochs && s.warmupEpochs >= s.epochs - s.freezeEpochs) fail(`--warmup-epochs must be below the unfrozen epochs (${s.epochs - s.freezeEpochs}), got ${s.warmupEpochs}`);
}
