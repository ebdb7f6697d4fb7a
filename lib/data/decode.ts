// Decoding a file into 8-bit RGB the way PIL's Image.open(f).convert("RGB")
// does, since that is what torchvision's ImageFolder feeds its transforms.
import { promises as fsp } from "fs";
import sharp from "sharp";
import { addon } from "../native";
import { decodeBmp, isBmp } from "./bmp";
import { MAX_IMAGE_PIXELS, RgbImage } from "./image";
import { decodeNetpbm, isNetpbm } from "./netpbm";

// PIL applies no colour management and no EXIF rotation; sharp would convert
// an embedded ICC profile to sRGB unless told not to, and rotates only on request.
const OPTIONS = { ignoreIcc: true, failOn: "truncated" as const, limitInputPixels: MAX_IMAGE_PIXELS };

/** Decodes a file (by path) or its bytes; errors name the file, or "image bytes". */
export async function decodeImage(source: string | Uint8Array): Promise<RgbImage> {
  const file = typeof source === "string" ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  try {
    // JPEG, nearly every photo, goes straight to libjpeg-turbo with PIL's
    // settings: PIL's exact pixels, without setting up a libvips pipeline per
    // image. The rest, and CMYK JPEG, go through sharp below.
    const jpeg = await addon.decodeJpeg(file);
    if (jpeg) return { ...jpeg, channels: 3 };
    const head = typeof file === "string" ? await readHead(file) : file.subarray(0, 32);
    // Formats sharp's bundled libvips lacks are read here, whole.
    if (isBmp(head) || isNetpbm(head)) {
      const bytes = typeof file === "string" ? new Uint8Array(await fsp.readFile(file)) : file;
      return isBmp(bytes) ? decodeBmp(bytes) : decodeNetpbm(bytes);
    }
    const meta = await sharp(file, OPTIONS).metadata();
    if (meta.space === "cmyk") return await fromCmyk(file);
    if (meta.space === "grey16" || meta.space === "rgb16") return await from16(file, meta.space);
    const { data, info } = await sharp(file, OPTIONS).removeAlpha().toColourspace("srgb").raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return image(data, info.width, info.height);
  } catch (err) {
    if (typeof file === "string") await explainPath(file);
    // Native errors arrive as "Error: why"; the reader needs only the why.
    const reason = (err instanceof Error ? err.message : String(err)).trim().replace(/^Error: /, "");
    throw new Error(`Could not decode ${typeof file === "string" ? `image ${file}` : "image bytes"}: ${reason}`);
  }
}

/** A path that is missing or a folder is said so plainly, rather than as the decoder's failure. */
async function explainPath(file: string): Promise<void> {
  const stat = await fsp.stat(file).catch(() => null);
  if (!stat) throw Object.assign(new Error(`no such file: ${file}`), { code: "ENOENT" });
  if (stat.isDirectory()) throw Object.assign(new Error(`${file} is a folder, not an image`), { code: "EISDIR" });
}

async function readHead(file: string): Promise<Uint8Array> {
  const handle = await fsp.open(file, "r");
  try {
    const head = new Uint8Array(32);
    const { bytesRead } = await handle.read(head, 0, 32, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function image(buffer: Buffer, width: number, height: number): RgbImage {
  return { data: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), width, height, channels: 3 };
}

// PIL's own CMYK -> RGB: r = (255 - c) * (255 - k) / 255 with its rounding
// (MULDIV255), not an ICC transform as libvips would do.
async function fromCmyk(file: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(file, OPTIONS).pipelineColourspace("cmyk").toColourspace("cmyk").raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height, step = info.channels;
  const out = Buffer.alloc(n * 3);
  for (let p = 0; p < n; p++) {
    const nk = 255 - data[p * step + 3];
    for (let c = 0; c < 3; c++) out[p * 3 + c] = muldiv255(255 - data[p * step + c], nk);
  }
  return image(out, info.width, info.height);
}

function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

// PIL keeps the high byte of 16-bit RGB, and opens 16-bit grey as mode "I",
// whose conversion to RGB clips at 255 rather than scaling.
async function from16(file: string | Buffer, space: "grey16" | "rgb16"): Promise<RgbImage> {
  const { data, info } = await sharp(file, OPTIONS).pipelineColourspace(space).toColourspace(space).raw({ depth: "ushort" })
    .toBuffer({ resolveWithObject: true });
  const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
  const words = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
  const n = info.width * info.height, step = info.channels;
  const out = Buffer.alloc(n * 3);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) {
      out[p * 3 + c] = space === "rgb16" ? words[p * step + c] >> 8 : Math.min(words[p * step], 255);
    }
  }
  return image(out, info.width, info.height);
}
