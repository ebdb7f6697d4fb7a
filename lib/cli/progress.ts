// A progress bar per phase on a terminal; nothing otherwise (logs stay clean).
import { SingleBar, Presets } from "cli-progress";

export interface PhaseProgress {
  update(images: number, loss: number): void;
  stop(): void;
}

export function phaseProgress(label: string, total: number, enabled = process.stderr.isTTY === true): PhaseProgress {
  if (!enabled || !total) return { update() {}, stop() {} };
  const bar = new SingleBar(
    { format: `${label.padEnd(14)} {bar} {value}/{total} images | loss {loss} | {duration_formatted}`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  bar.start(total, 0, { loss: "-" });
  return {
    update: (images, loss) => bar.update(images, { loss: loss.toFixed(4) }),
    stop: () => bar.stop(),
  };
}
