// Whether the fast eval form's oneDNN layouts (channels_last, and oneDNN's
// blocked mkldnn tensors) run right on this machine, found once per process by
// running each in a child process against NCHW. On libtorch 2.x, oneDNN 3.x
// kills the process with SIGFPE, or gives wrong values, on some CPUs
// (native/torch_compat.h, kFastLayoutsTrustedWithoutProbe), and no handler
// could let this process go on after the signal; so until a child has come
// back alive and in agreement, the fast form stays NCHW. On 1.13 both are
// trusted and nothing is spawned.
import { execFile } from "child_process";
import { addon, addonFile, InferenceLayout } from "./native";

/** What the probe found for one layout: whether it may be used, and why. */
export interface LayoutProbe {
  usable: boolean;
  why: string;
}

export type FastLayout = Exclude<InferenceLayout, "contiguous">;
export type LayoutProbes = Record<FastLayout, LayoutProbe>;

const FAST_LAYOUTS: FastLayout[] = ["channels_last", "mkldnn"];

// Folding aside, a layout only sums in another order: about 1e-6 of the
// largest value (inference.test.ts); the wrong channels_last convolution seen
// on 2.6 was off by half of it.
const RELATIVE_TOLERANCE = 1e-4;

// The child loads the addon as this process did (lib/native.ts has put UCX's
// settings into the environment it inherits) and prints the layout's difference from NCHW.
const CHILD = "console.log(require(process.argv[1]).layoutSelfTest(process.argv[2]));";
const TIMEOUT_MS = 120_000;

let found: Promise<LayoutProbes> | null = null;

/**
 * Runs the probe once (later calls share its answer) and tells the addon.
 * TORCH_TRANSFER_FAST_LAYOUTS=0 keeps the fast form NCHW and =1 trusts both
 * layouts, without a probe.
 */
export function probeLayouts(env: NodeJS.ProcessEnv = process.env): Promise<LayoutProbes> {
  if (!found) found = decideLayouts(env);
  return found;
}

/** @internal One decision, not kept: probeLayouts' work, for tests. */
export async function decideLayouts(env: NodeJS.ProcessEnv): Promise<LayoutProbes> {
  const forced = env.TORCH_TRANSFER_FAST_LAYOUTS;
  const entries = await Promise.all(
    FAST_LAYOUTS.map(async (layout): Promise<[FastLayout, LayoutProbe]> => {
      let probe: LayoutProbe;
      // The mkldnn layout is oneDNN itself: where the addon turned oneDNN off, not even =1 trusts it.
      if (forced === "0") probe = { usable: false, why: "TORCH_TRANSFER_FAST_LAYOUTS=0" };
      else if (layout === "mkldnn" && addon.oneDnnOff) probe = { usable: false, why: `oneDNN is off: ${addon.oneDnnOff}` };
      else if (forced === "1") probe = { usable: true, why: "TORCH_TRANSFER_FAST_LAYOUTS=1" };
      else if (addon.layoutUsable(layout)) probe = { usable: true, why: `trusted on libtorch ${addon.libtorchVersion()}` };
      else probe = await runChild(layout);
      addon.setLayoutUsable(layout, probe.usable);
      return [layout, probe];
    }),
  );
  return Object.fromEntries(entries) as LayoutProbes;
}

function runChild(layout: FastLayout): Promise<LayoutProbe> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["-e", CHILD, addonFile, layout], { timeout: TIMEOUT_MS, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { signal?: string | null; code?: number | string | null };
        const how = e.signal ? `died of ${e.signal}` : `exited with ${String(e.code)}`;
        const said = stderr.trim().split("\n").filter(Boolean).pop();
        return resolve({ usable: false, why: `a child process running ${layout} convolutions ${how}${said ? ` (${said})` : ""}` });
      }
      const diff = Number(stdout.trim());
      if (!(diff <= RELATIVE_TOLERANCE)) {
        return resolve({ usable: false, why: `${layout} convolutions differ from NCHW by ${diff} of the largest value (over ${RELATIVE_TOLERANCE})` });
      }
      resolve({ usable: true, why: `a child process ran ${layout} convolutions within ${diff} of NCHW` });
    });
  });
}
