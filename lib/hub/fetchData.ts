// The tutorial's ants-and-bees data: download the zip, extract it into a
// temporary folder next to the target, and rename it into place when whole.
import { checkOptions } from "../check";
import * as fs from "fs";
import * as path from "path";
import { download } from "./download";
import { PACKAGE_ROOT } from "./weights";
import { extractZip } from "./zip";

export const DEFAULT_DATA_URL = "https://download.pytorch.org/tutorial/hymenoptera_data.zip";
const DATA_NAME = "hymenoptera_data";

export interface FetchDataOptions {
  /** Default: env TORCH_TRANSFER_DATA_URL, else download.pytorch.org's zip. */
  url?: string;
  /** The folder that receives hymenoptera_data/; default `<package root>/data`. */
  dest?: string;
  progress?: boolean;
}

const FETCH_DATA_OPTIONS: Record<keyof FetchDataOptions, true> = { url: true, dest: true, progress: true };

/** Downloads and extracts the data set unless already there; resolves to the path of hymenoptera_data/. */
export async function fetchData(options: FetchDataOptions = {}): Promise<string> {
  checkOptions(options, FETCH_DATA_OPTIONS, "fetchData");
  const url = options.url ?? (process.env.TORCH_TRANSFER_DATA_URL || DEFAULT_DATA_URL);
  const dest = path.resolve(options.dest ?? path.join(PACKAGE_ROOT, "data"));
  const final = path.join(dest, DATA_NAME);
  if (fs.existsSync(final)) return final;
  await fs.promises.mkdir(dest, { recursive: true });
  const archive = path.join(dest, `${DATA_NAME}.zip`);
  const temp = await fs.promises.mkdtemp(path.join(dest, `.${DATA_NAME}-`));
  // A zip put there by hand (the offline route the download error suggests) is used as it is, and kept.
  const byHand = fs.existsSync(archive);
  try {
    if (!byHand) await download(url, archive, { progress: options.progress });
    await extractZip(archive, temp);
    // The tutorial's zip holds a top-level hymenoptera_data/ folder; accept a bare one too.
    const inner = path.join(temp, DATA_NAME);
    if (fs.existsSync(inner)) await fs.promises.rename(inner, final);
    else await fs.promises.rename(temp, final);
    return final;
  } finally {
    await fs.promises.rm(temp, { recursive: true, force: true });
    if (!byHand) await fs.promises.rm(archive, { force: true });
  }
}
