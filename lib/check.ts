// Argument checks for the public boundary. One helper builds every message,
// so users always read what was expected, for which argument, and what came.
import { closest } from "./suggest";

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === "string") return `"${value.length > 60 ? value.slice(0, 57) + "..." : value}" of type string`;
  // The addon's classes are NativeTensor, NativeModule...: users know them without the prefix.
  if (typeof value === "object") return `an object (${((value as object).constructor?.name ?? "Object").replace(/^Native(?=[A-Z])/, "")})`;
  return `${String(value)} of type ${typeof value}`;
}

export function invalid(expected: string, name: string, value: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(value)}`);
}

export function checkInteger(value: unknown, name: string, min = -Infinity): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    const what = min === 1 ? "positive integer" : min === 0 ? "non-negative integer" : "integer";
    throw invalid(what, name, value);
  }
  return value;
}

export function checkNumber(value: unknown, name: string, { min = -Infinity, max = Infinity } = {}): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    const range = min === -Infinity && max === Infinity ? "" : ` in [${min}, ${max}]`;
    throw invalid(`finite number${range}`, name, value);
  }
  return value;
}

export function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") throw invalid("boolean", name, value);
  return value;
}

export function checkString(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) throw invalid("non-empty string", name, value);
  return value;
}

export function checkShape(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || !value.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
    throw invalid("array of non-negative integers", name, value);
  }
  return value as number[];
}

/** Rethrows a native failure as an Error whose stack points at the caller's line. */
export async function withCallerStack<T>(promise: Promise<T>, callSite: Error): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    // The addon's errors come from the main realm: `instanceof Error` is false for
    // them inside a vm context (jest's, for one), so look at their shape instead.
    const e = typeof err === "object" && err !== null ? (err as { message?: unknown; name?: unknown }) : null;
    const message = typeof e?.message === "string" ? e.message : String(err);
    const error = e?.name === "TypeError" ? new TypeError(message) : new Error(message);
    error.stack = `${error.name}: ${message}\n${(callSite.stack ?? "").split("\n").slice(1).join("\n")}`;
    throw error;
  }
}

/**
 * Checks an options object at the public boundary: an object (or nothing), and
 * no key the callee does not know. A PyTorch user's snake_case (`batch_size`)
 * is the usual mistake, so the message names the key it most likely meant.
 * `known` lists every option as a key, so TypeScript keeps it complete.
 */
export function checkOptions<T extends object>(options: T | undefined, known: Record<keyof T, true>, where: string): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) throw invalid("an options object", `${where}'s options`, options);
  const names = Object.keys(known);
  for (const key of Object.keys(options)) {
    if (Object.prototype.hasOwnProperty.call(known, key)) continue;
    const guess = closest(key, names);
    throw new TypeError(
      `Unknown option "${key}" for ${where}${guess ? `; did you mean "${guess}"?` : ""} (its options: ${names.join(", ")})`,
    );
  }
  return options;
}
