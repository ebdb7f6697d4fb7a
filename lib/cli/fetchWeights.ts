// `npm run fetch-weights -- [--dir DIR]`: torchvision's ResNet-18 ImageNet weights into the cache.
import { resolveWeights } from "../hub/weights";

const USAGE = "usage: npm run fetch-weights -- [--dir DIR]";

/** Runs the command; resolves to the exit status (0 ok, 1 failure, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  let dir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--help" || flag === "-h") {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (flag !== "--dir" || argv[i + 1] === undefined || argv[i + 1].startsWith("--")) {
      process.stderr.write(`fetch-weights: ${flag === "--dir" ? "--dir needs a value" : `unknown argument ${flag}`}\n${USAGE}\n`);
      return 2;
    }
    dir = argv[++i];
  }
  try {
    process.stdout.write(`${await resolveWeights("IMAGENET1K_V1", { dir })}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`fetch-weights: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
