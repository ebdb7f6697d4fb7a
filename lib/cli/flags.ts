// The commands' flags as one table each: parsing, --help and "did you mean"
// all come from it, so adding a flag to a command is adding one entry.
import { parseArgs, ParseArgsConfig } from "util";
import { closest } from "../suggest";
import { UsageError } from "./usage";

export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  /** The value's placeholder in --help: N, X, DIR, FILE, cpu|cuda:N ... */
  value?: string;
  /** The default as --help shows it (the code that applies it may compute it). */
  default?: string;
  /** One line for --help. */
  help: string;
}

export type FlagTable = Record<string, FlagSpec>;
export type FlagValues<T extends FlagTable> = { [K in keyof T]?: T[K]["type"] extends "string" ? string : boolean };

export interface CommandSpec<T extends FlagTable> {
  /** As typed after `npm run`. */
  name: string;
  /** One sentence: what the command does. */
  summary: string;
  /** The positional arguments in the usage line ("IMAGE|DIR..."); none when absent. */
  positionals?: string;
  flags: T;
  examples: string[];
}

/** Every command answers --help and -h. */
const HELP: FlagSpec = { type: "boolean", short: "h", help: "show this help and exit" };

export function helpText<T extends FlagTable>(spec: CommandSpec<T>): string {
  const flags: [string, FlagSpec][] = [...Object.entries(spec.flags), ["help", HELP]];
  const left = flags.map(([name, f]) => `${f.short ? `-${f.short}, ` : "    "}--${name}${f.value ? ` ${f.value}` : ""}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = flags.map(([, f], i) => `  ${left[i].padEnd(width)}${f.help}${f.default !== undefined ? ` (default: ${f.default})` : ""}`);
  return [
    `usage: npm run ${spec.name} -- [options]${spec.positionals ? ` ${spec.positionals}` : ""}`,
    "",
    spec.summary,
    "",
    "options:",
    ...lines,
    "",
    "examples:",
    ...spec.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}

export interface Parsed<T extends FlagTable> {
  values: FlagValues<T>;
  positionals: string[];
  /** --help was given: print helpText and exit 0. */
  help: boolean;
}

/**
 * Parses argv against the command's table. Mistakes are UsageErrors (exit 2):
 * an unknown flag (with the closest known one), a value missing, a boolean
 * given a value. A negative number is taken as a flag's value (`--lr -0.1`), so
 * that the flag's own check can say what it expects.
 */
export function parseCommand<T extends FlagTable>(spec: CommandSpec<T>, argv: string[]): Parsed<T> {
  const table: FlagTable = { ...spec.flags, help: HELP };
  const byShort = new Map(Object.entries(table).filter(([, f]) => f.short).map(([name, f]) => [f.short as string, name]));
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      args.push(...argv.slice(i));
      break;
    }
    if (!arg.startsWith("-") || arg === "-" || /^-\d|^-\.\d/.test(arg)) {
      if (!spec.positionals) throw new UsageError(`unexpected argument "${arg}": ${spec.name} takes only flags (see --help)`);
      args.push(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const [key, inline] = long ? splitOnce(arg.slice(2)) : [arg.slice(1), undefined];
    const name = long ? key : byShort.get(key);
    const flag = name === undefined ? undefined : table[name];
    if (name === undefined || flag === undefined) {
      const guess = closest(key, Object.keys(table));
      throw new UsageError(`unknown option ${arg.split("=")[0]}${guess ? `; did you mean --${guess}?` : ""} (see --help)`);
    }
    if (flag.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value, got "${inline}"`);
      args.push(`--${name}`);
      continue;
    }
    const value = inline ?? argv[i + 1];
    const looksLikeFlag = inline === undefined && value !== undefined && value.startsWith("-") && !/^-\d|^-\.\d/.test(value);
    if (value === undefined || looksLikeFlag) throw new UsageError(`--${name} needs a value (${flag.value ?? "a value"})`);
    if (inline === undefined) i++;
    args.push(`--${name}=${value}`);
  }
  try {
    // Only type and short: parseArgs would apply a `default` itself, and a default shown in --help is not always the one applied.
    const options: NonNullable<ParseArgsConfig["options"]> = {};
    for (const [name, f] of Object.entries(table)) options[name] = f.short ? { type: f.type, short: f.short } : { type: f.type };
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    const values = parsed.values as FlagValues<T> & { help?: boolean };
    return { values, positionals: parsed.positionals, help: values.help === true };
  } catch (err) {
    throw new UsageError((err as Error).message.split("\n")[0]);
  }
}

function splitOnce(s: string): [string, string | undefined] {
  const at = s.indexOf("=");
  return at < 0 ? [s, undefined] : [s.slice(0, at), s.slice(at + 1)];
}
