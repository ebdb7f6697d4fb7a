// `npm run fetch-data -- [--dest DIR] [--url URL]`: the tutorial's ants-and-bees images.
import { fetchData } from "../hub/fetchData";

const USAGE = "usage: npm run fetch-data -- [--dest DIR] [--url URL]";

/** Runs the command; resolves to the exit status (0 ok, 1 failure, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const options: { dest?: string; url?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--help" || flag === "-h") {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const value = argv[i + 1];
    if ((flag !== "--dest" && flag !== "--url") || value === undefined || value.startsWith("--")) {
      process.stderr.write(`fetch-data: ${flag === "--dest" || flag === "--url" ? `${flag} needs a value` : `unknown argument ${flag}`}\n${USAGE}\n`);
      return 2;
    }
    options[flag === "--dest" ? "dest" : "url"] = value;
    i++;
  }
  try {
    const folder = await fetchData(options);
    process.stdout.write(`${folder}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`fetch-data: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
