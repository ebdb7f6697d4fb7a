// The commands' flag tables: parsing, --help text and "did you mean", without starting a command.
import { CommandSpec, FlagTable, helpText, parseCommand } from "../lib/cli/flags";
import { UsageError } from "../lib/cli/usage";
import { closest } from "../lib/suggest";
import { commandSpec } from "../lib/cli/trainCommand";
import { SPEC as predict } from "../lib/cli/predict";
import { SPEC as showBatch } from "../lib/cli/showBatch";
import { SPEC as fetchData } from "../lib/cli/fetchData";
import { SPEC as fetchWeights } from "../lib/cli/fetchWeights";
import { SPEC as serve } from "../lib/cli/serve";
import { SPEC as exportCommand } from "../lib/cli/export";
import { SPEC as checkData } from "../lib/cli/checkData";
import { SPEC as evaluate } from "../lib/cli/evaluate";
import { SPEC as lrFind } from "../lib/cli/lrFind";

const FLAGS = {
  epochs: { type: "string", value: "N", default: "25", help: "passes over the data" },
  lr: { type: "string", value: "X", help: "learning rate" },
  json: { type: "boolean", help: "JSON lines" },
} as const satisfies FlagTable;
const SPEC: CommandSpec<typeof FLAGS> = { name: "demo", summary: "A demo.", positionals: "FILE...", flags: FLAGS, examples: ["npm run demo -- --epochs 2"] };

function usageError(argv: string[]): string {
  try {
    parseCommand(SPEC, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`no error for ${argv.join(" ")}`);
}

test("values, positionals and --help are parsed; a negative number is a flag's value, not a flag", () => {
  expect(parseCommand(SPEC, ["--epochs", "-1", "--lr", "-0.1", "--json", "a.jpg"])).toEqual({
    values: { epochs: "-1", lr: "-0.1", json: true },
    positionals: ["a.jpg"],
    help: false,
  });
  expect(parseCommand(SPEC, ["--lr=-.5", "-h"]).values.lr).toBe("-.5");
  expect(parseCommand(SPEC, ["-h"]).help).toBe(true);
  // A default shown in --help is not applied by the parser: the command applies its own.
  expect(parseCommand(SPEC, []).values.epochs).toBeUndefined();
});

test.each([
  [["--epoch", "1"], "unknown option --epoch; did you mean --epochs? (see --help)"],
  [["--jsno"], "unknown option --jsno; did you mean --json? (see --help)"],
  [["--frobnicate"], "unknown option --frobnicate (see --help)"],
  [["--epochs"], "--epochs needs a value (N)"],
  [["--epochs", "--json"], "--epochs needs a value (N)"],
  [["--json=yes"], '--json takes no value, got "yes"'],
])("%j is a usage error: %s", (argv, message) => {
  expect(usageError(argv)).toBe(message);
});

test("closest() finds snake_case, prefixes and typos, and nothing for an unrelated name", () => {
  expect(closest("batch_size", ["batchSize", "shuffle", "numWorkers"])).toBe("batchSize");
  expect(closest("batch_size", ["batch-size", "epochs"])).toBe("batch-size");
  expect(closest("weight_decay", ["lr", "momentum", "weightDecay", "dampening"])).toBe("weightDecay");
  expect(closest("epoch", ["epochs", "lr"])).toBe("epochs");
  expect(closest("momentm", ["momentum", "lr"])).toBe("momentum");
  expect(closest("colour", ["epochs", "lr"])).toBeUndefined();
});

test("--help gives the usage line, the summary, one line per flag with its placeholder and default, and examples", () => {
  expect(helpText(SPEC).split("\n")).toEqual([
    "usage: npm run demo -- [options] FILE...",
    "",
    "A demo.",
    "",
    "options:",
    "      --epochs N  passes over the data (default: 25)",
    "      --lr X      learning rate",
    "      --json      JSON lines",
    "  -h, --help      show this help and exit",
    "",
    "examples:",
    "  npm run demo -- --epochs 2",
    "",
  ]);
});

test.each([
  ["finetune", commandSpec("finetune")],
  ["feature-extract", commandSpec("feature-extract")],
  ["predict", predict],
  ["show-batch", showBatch],
  ["fetch-data", fetchData],
  ["fetch-weights", fetchWeights],
  ["serve", serve],
  ["export", exportCommand],
  ["check-data", checkData],
  ["evaluate", evaluate],
  ["lr-find", lrFind],
] as [string, CommandSpec<FlagTable>][])("every flag of %s has a line in --help, and there are examples", (name, spec) => {
  const text = helpText(spec);
  expect(text.startsWith(`usage: npm run ${name} -- `)).toBe(true);
  for (const [flag, f] of Object.entries(spec.flags)) {
    const line = text.split("\n").find((l) => l.trimStart().startsWith(`--${flag} `) || l.trim() === `--${flag}` || l.includes(`    --${flag} `));
    expect(line).toBeDefined();
    expect(f.help.length).toBeGreaterThan(0);
    if (f.default !== undefined) expect(line).toContain(`(default: ${f.default})`);
  }
  expect(spec.examples.length).toBeGreaterThan(0);
  for (const example of spec.examples) expect(example.startsWith(`npm run ${name}`)).toBe(true);
});

test("feature-extract has --cache-features and finetune does not", () => {
  expect(Object.keys(commandSpec("feature-extract").flags)).toContain("cache-features");
  expect(Object.keys(commandSpec("finetune").flags)).not.toContain("cache-features");
  expect(() => parseCommand(commandSpec("finetune"), ["--cache-feature"])).toThrow("unknown option --cache-feature (see --help)");
});
