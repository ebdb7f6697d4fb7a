// --nproc-per-node N: start N workers of this same command with torchrun's
// environment (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK), the way
// torchrun does, so multi-node launchers that set that environment work too.
import { ChildProcess, spawn } from "child_process";
import * as os from "os";

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
}

/** Runs the workers; resolves to the exit status (the first failure's, or 0). */
export function launchWorkers(script: string, argv: string[], opts: LaunchOptions): Promise<number> {
  const worldSize = opts.nprocPerNode * opts.nnodes;
  // Share the cores: N workers of (cores / N) intra-op threads each, no oversubscription.
  const threads = String(Math.max(1, Math.floor(os.availableParallelism() / opts.nprocPerNode)));
  const children: ChildProcess[] = [];
  let failure = 0;
  for (let local = 0; local < opts.nprocPerNode; local++) {
    const rank = opts.nodeRank * opts.nprocPerNode + local;
    const env = {
      ...process.env,
      MASTER_ADDR: opts.masterAddr,
      MASTER_PORT: String(opts.masterPort),
      WORLD_SIZE: String(worldSize),
      RANK: String(rank),
      LOCAL_RANK: String(local),
      LOCAL_WORLD_SIZE: String(opts.nprocPerNode),
      TORCH_TRANSFER_NUM_THREADS: process.env.TORCH_TRANSFER_NUM_THREADS ?? threads,
    };
    children.push(spawn(process.execPath, [script, ...argv], { env, stdio: "inherit" }));
  }
  // A terminal's Ctrl-C reaches every worker itself; a signal sent to us alone is passed on.
  const forward = (signal: NodeJS.Signals) => () => children.forEach((c) => c.exitCode === null && c.kill(signal));
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return new Promise((resolve) => {
    let running = children.length;
    children.forEach((child, i) => {
      child.on("exit", (code, signal) => {
        const status = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 1) : 1);
        if (status !== 0 && failure === 0) {
          failure = status;
          if (status !== 130) process.stderr.write(`launcher: worker ${i} (rank ${opts.nodeRank * opts.nprocPerNode + i}) exited with status ${status}; stopping the others\n`);
          // The others would fail at their next collective anyway; do not let them wait for a timeout.
          children.forEach((c) => c !== child && c.exitCode === null && c.kill(status === 130 ? "SIGINT" : "SIGTERM"));
        }
        if (--running === 0) {
          process.off("SIGINT", onInt);
          process.off("SIGTERM", onTerm);
          resolve(failure);
        }
      });
    });
  });
}
