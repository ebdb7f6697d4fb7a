// Whether oneDNN's blocked (mkldnn) tensors run on this machine, found once per
// process by running them in a child process. On libtorch 2.x a oneDNN bug
// kills the process with SIGFPE on some CPUs (native/torch_compat.h,
// kMkldnnTrustedWithoutProbe), and no handler could let this process go on
// after it; so the fast eval form uses channels_last until the child has come
// back alive. On 1.13 the layout is trusted and nothing is spawned.
import { execFile } from "child_process";
import { addon, addonFile } from "./native";

/** What the probe found: whether the layout runs, and why it was decided so. */
export interface MkldnnProbe {
  usable: boolean;
  why: string;
}

// The child loads the addon as this process did (lib/native.ts has put UCX's
// settings into the environment it inherits) and runs the layout's operations.
const CHILD = "require(process.argv[1]).mkldnnSelfTest();";
const TIMEOUT_MS = 120_000;

let found: Promise<MkldnnProbe> | null = null;

/**
 * Runs the probe once (later calls share its answer) and tells the addon.
 * TORCH_TRANSFER_MKLDNN=0 turns the layout off and =1 trusts it, without a probe.
 */
export function probeMkldnn(env: NodeJS.ProcessEnv = process.env): Promise<MkldnnProbe> {
  if (!found) found = decideMkldnn(env);
  return found;
}

/** @internal One decision, not kept: probeMkldnn's work, for tests. */
export async function decideMkldnn(env: NodeJS.ProcessEnv): Promise<MkldnnProbe> {
  const forced = env.TORCH_TRANSFER_MKLDNN;
  if (forced === "0" || forced === "1") {
    addon.setMkldnnUsable(forced === "1");
    return { usable: forced === "1", why: `TORCH_TRANSFER_MKLDNN=${forced}` };
  }
  if (addon.mkldnnUsable()) return { usable: true, why: `trusted on libtorch ${addon.libtorchVersion()}` };
  const probe = await runChild();
  addon.setMkldnnUsable(probe.usable);
  return probe;
}

function runChild(): Promise<MkldnnProbe> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["-e", CHILD, addonFile], { timeout: TIMEOUT_MS, encoding: "utf8" }, (err, _stdout, stderr) => {
      if (!err) return resolve({ usable: true, why: "a child process ran oneDNN's blocked tensors" });
      const e = err as NodeJS.ErrnoException & { signal?: string | null; code?: number | string | null };
      const how = e.signal ? `died of ${e.signal}` : `exited with ${String(e.code)}`;
      const said = stderr.trim().split("\n").filter(Boolean).pop();
      resolve({ usable: false, why: `a child process running oneDNN's blocked tensors ${how}${said ? ` (${said})` : ""}: channels_last instead` });
    });
  });
}
