// Argument checks for the public boundary. One helper builds every message,
// so users always read what was expected, for which argument, and what came.

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === "string") return `"${value.length > 60 ? value.slice(0, 57) + "..." : value}" of type string`;
  if (typeof value === "object") return `an object (${(value as object).constructor?.name ?? "Object"})`;
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
