// Downloads a file as torch.hub does: follow redirects, stream to a partial
// file, check the SHA-256 prefix, then rename. A failed download leaves nothing.
import { SingleBar } from "cli-progress";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { checkOptions, checkString } from "../check";

export interface DownloadOptions {
  /** Expected start of the file's SHA-256 (hex); by default taken from the URL's file name, as torch.hub does. */
  sha256Prefix?: string;
  /** Show a progress bar; by default only when stderr is a TTY. */
  progress?: boolean;
}

const DOWNLOAD_OPTIONS: Record<keyof DownloadOptions, true> = { sha256Prefix: true, progress: true };

const OFFLINE_CODES = new Set(["ENOTFOUND", "ECONNREFUSED", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "ETIMEDOUT"]);
const MAX_REDIRECTS = 10;

/** torch.hub's check_hash convention: resnet18-f37072fd.pth -> "f37072fd"; null when the name carries none. */
export function hashPrefixFromName(fileName: string): string | null {
  const match = /-([a-f0-9]+)\.[^-]*$/.exec(path.basename(fileName));
  return match ? match[1] : null;
}

function get(url: string, redirects: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return reject(new Error(`cannot download ${url}: not a valid URL`));
    }
    const client = parsed.protocol === "https:" ? https : parsed.protocol === "http:" ? http : null;
    if (!client) return reject(new Error(`cannot download ${url}: only http and https URLs are supported`));
    const request = client.get(parsed, { headers: { "user-agent": "torch-transfer" } }, (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location) {
        response.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new Error(`cannot download ${url}: too many redirects`));
        return resolve(get(new URL(location, parsed).toString(), redirects + 1));
      }
      if (status !== 200) {
        response.resume();
        return reject(new Error(`cannot download ${url}: HTTP ${status} ${response.statusMessage ?? ""}`.trim()));
      }
      resolve(response);
    });
    request.on("error", reject);
  });
}

function describeFailure(url: string, dest: string, err: Error & { code?: string }): Error {
  if (err.message.startsWith("cannot download")) return err;
  if (err.code && OFFLINE_CODES.has(err.code)) {
    return new Error(
      `cannot download ${url} (${err.code}): no network? Download it by hand on a connected machine and put it at ${dest}`,
    );
  }
  return new Error(`cannot download ${url}: ${err.message}`);
}

/** Downloads `url` to `dest`; resolves once `dest` is complete and verified. */
export async function download(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  checkOptions(options, DOWNLOAD_OPTIONS, "download");
  checkString(url, "url");
  checkString(dest, "dest");
  const expected = options.sha256Prefix ?? hashPrefixFromName(new URL(url).pathname);
  const partial = `${dest}.partial-${process.pid}`;
  const showProgress = options.progress ?? Boolean(process.stderr.isTTY);
  let bar: SingleBar | null = null;
  try {
    await fs.promises.mkdir(path.dirname(path.resolve(dest)), { recursive: true });
    const response = await get(url, 0);
    const total = Number(response.headers["content-length"] ?? NaN);
    const hash = createHash("sha256");
    let received = 0;
    if (showProgress) {
      bar = new SingleBar({ format: `${path.basename(dest)} [{bar}] {percentage}% {value}/{total} bytes`, stream: process.stderr });
      bar.start(Number.isFinite(total) ? total : 0, 0);
    }
    const out = fs.createWriteStream(partial);
    try {
      await new Promise<void>((resolve, reject) => {
        response.on("data", (chunk: Buffer) => {
          received += chunk.length;
          hash.update(chunk);
          bar?.update(received);
          if (!out.write(chunk)) {
            response.pause();
            out.once("drain", () => response.resume());
          }
        });
        // A server that hangs up early may end the response quietly or with "aborted".
        const cut = () => new Error(`connection closed after ${received} of ${Number.isFinite(total) ? total : "?"} bytes`);
        response.on("aborted", () => reject(cut()));
        response.on("error", reject);
        response.on("end", () => resolve());
        response.on("close", () => reject(cut()));
        out.on("error", reject);
      });
    } finally {
      await new Promise<void>((resolve) => out.end(() => resolve()));
    }
    if (Number.isFinite(total) && received !== total) {
      throw new Error(`cannot download ${url}: connection closed after ${received} of ${total} bytes`);
    }
    const actual = hash.digest("hex");
    if (expected && !actual.startsWith(expected)) {
      throw new Error(`cannot download ${url}: SHA-256 mismatch, expected a hash starting with ${expected} but got ${actual}`);
    }
    await fs.promises.rename(partial, dest);
  } catch (err) {
    await fs.promises.rm(partial, { force: true });
    throw describeFailure(url, dest, err as Error);
  } finally {
    bar?.stop();
  }
}
