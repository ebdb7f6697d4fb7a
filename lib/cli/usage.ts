// Command-line plumbing shared by the commands: flags, one-line errors, exit codes.
import { parseArgs, ParseArgsConfig } from "util";

/** A mistake in how the command was called: exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string }>;
export type FlagValues<T extends FlagSpec> = { [K in keyof T]?: T[K]["type"] extends "string" ? string : boolean };

/** The flag parser before lib/cli/flags.ts; new commands use parseCommand, which adds --help text and suggestions. */
export function parseFlags<T extends FlagSpec>(argv: string[], options: T, allowPositionals = false): { values: FlagValues<T>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: argv, options: options as NonNullable<ParseArgsConfig["options"]>, allowPositionals, strict: true });
    return { values: parsed.values as FlagValues<T>, positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message.split("\n")[0]);
  }
}

export function intFlag(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} expects an integer of at least ${min}, got "${value}"`);
  }
  return n;
}

export function numberFlag(value: string | undefined, name: string, fallback: number, { min = -Infinity, exclusiveMin = false } = {}): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || (exclusiveMin && n === min)) {
    throw new UsageError(`--${name} expects a number ${exclusiveMin ? "above" : "of at least"} ${min}, got "${value}"`);
  }
  return n;
}

/** Runs a command's main to its exit status: an error becomes one line on stderr, status 2 for usage errors, 1 otherwise. */
export async function statusOf(command: string, main: () => Promise<number | void>): Promise<number> {
  try {
    return (await main()) ?? 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${command}: ${message.split("\n").join("\n  ")}\n`);
    if (process.env.TORCH_TRANSFER_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

/** Runs a command's main and exits with its status. */
export function runMain(command: string, main: () => Promise<number | void>): void {
  void statusOf(command, main).then((code) => process.exit(code));
}
