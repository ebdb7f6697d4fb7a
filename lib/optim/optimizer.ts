// torch.optim.Optimizer's shape: parameter groups (a list of { params, lr, ... },
// each option defaulting to the constructor's), zeroGrad, step, and state dicts
// that resume exactly. The maths is native (native/sgd.cc, native/adam.cc) and
// runs on the compute queue; setting a group's option posts the change there,
// so it applies to the steps called after it.
import { checkBoolean, checkNumber, checkOptions, describe, invalid, withCallerStack } from "../check";
import { addon, NativeOptimizer, NativeParamState } from "../native";
import { checkTensor, isTensor, Tensor } from "../tensor";

/** How one option is checked, and the native options it becomes (betas: beta1 and beta2). */
export interface OptionSpec {
  check(value: unknown, name: string): unknown;
  /** The check when a group's option is assigned later, if looser than the constructor's. */
  checkAssigned?(value: unknown, name: string): unknown;
  toNative?(value: unknown): [string, number | boolean][];
}

export const numberOption = (range: { min?: number; max?: number } = {}): OptionSpec => ({ check: (v, name) => checkNumber(v, name, range) });
/**
 * lr: not negative when given, as PyTorch's constructors insist, but any finite
 * number when assigned: a schedule may pass zero on its last step (OneCycleLR's
 * linear anneal does, in PyTorch too).
 */
export const lrOption: OptionSpec = { ...numberOption({ min: 0 }), checkAssigned: numberOption().check };
export const booleanOption: OptionSpec = { check: (v, name) => checkBoolean(v, name) };

/** One entry of the list form of `params`: its own tensors, and options that override the constructor's. */
export type ParamGroupSpec<O> = { params: Iterable<Tensor> } & Partial<O>;
export type Params<O> = Iterable<Tensor> | ParamGroupSpec<O>[];

/**
 * A parameter group, as PyTorch's `optimizer.param_groups[i]`: assigning an
 * option (`group.lr = 0.01`, `group.betas = [0.9, 0.99]`) changes the steps
 * that follow. Array options are frozen: assign a new array instead.
 */
export type ParamGroup<O> = O & {
  readonly params: Tensor[];
  /** Set by the first learning-rate scheduler, as PyTorch's group["initial_lr"]. */
  initialLr?: number;
};

export interface OptimizerStateDict {
  /** Per parameter, numbered across groups in order, as PyTorch numbers them; absent before its first step. */
  state: Record<number, Record<string, Tensor | number>>;
  /** Each group's options and the numbers of its parameters. */
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

export abstract class Optimizer<O extends { lr: number } = { lr: number }> {
  /** @internal */
  readonly native: NativeOptimizer;
  /** The constructor's options, which groups fall back on. */
  readonly defaults: O;
  readonly paramGroups: ParamGroup<O>[];
  private readonly specs: Record<string, OptionSpec>;
  private readonly stateKeys: readonly string[];

  protected constructor(
    kind: "sgd" | "adam" | "adamw",
    className: string,
    params: Params<O>,
    options: Partial<O> | undefined,
    specs: Record<keyof O & string, OptionSpec> & Record<string, OptionSpec>,
    defaults: Partial<O>,
    stateKeys: readonly string[],
  ) {
    this.specs = specs;
    this.stateKeys = stateKeys;
    const known = Object.fromEntries(Object.keys(specs).map((k) => [k, true])) as Record<string, true>;
    const given = checkOptions(options as Record<string, unknown> | undefined, known, className);
    const resolvedDefaults: Record<string, unknown> = {};
    for (const name of Object.keys(specs)) {
      const value = given[name] ?? (defaults as Record<string, unknown>)[name];
      if (value !== undefined) resolvedDefaults[name] = specs[name].check(value, name);
    }
    this.defaults = resolvedDefaults as O;

    const groups = parseGroups(params).map(({ tensors, overrides, where }) => {
      const values: Record<string, unknown> = {};
      checkOptions(overrides, { params: true, ...known }, `${className}'s ${where}`);
      for (const name of Object.keys(specs)) {
        const own = overrides[name];
        if (own === undefined && resolvedDefaults[name] === undefined) throw invalid(specs[name] === booleanOption ? "boolean" : "finite number", name, undefined);
        values[name] = own === undefined ? resolvedDefaults[name] : specs[name].check(own, `${where}.${name}`);
      }
      this.checkGroup(values as O, where);
      return { tensors, values };
    });
    this.native = new addon.Optimizer(
      kind,
      groups.map(({ tensors, values }) => {
        const out: Record<string, number | boolean | Tensor[]> = { params: tensors };
        for (const name of Object.keys(values)) for (const [n, v] of this.nativeOptions(name, values[name])) out[n] = v;
        return out as { params: Tensor[] } & Record<string, number | boolean>;
      }),
    );
    this.paramGroups = groups.map(({ tensors, values }, index) => this.groupView(index, tensors, values));
  }

  /** Checks one group's options together (nesterov needs momentum, ...), throwing with `where` in the message. */
  protected checkGroup(_options: O, _where: string): void {}

  /**
   * Resets the gradients before the next backward: zeroed in place by default,
   * as PyTorch 1.13 does (their memory is reused), or dropped with
   * `{ setToNone: true }`, PyTorch 2's default (a parameter whose gradient is
   * then never computed is skipped by step()).
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const { setToNone = false } = checkOptions(options, { setToNone: true }, "zeroGrad");
    this.native.zeroGrad(checkBoolean(setToNone, "setToNone"));
  }

  step(): Promise<void> {
    return withCallerStack(this.native.step(), new Error());
  }

  /**
   * PyTorch's state_dict: the state of every parameter that has been stepped,
   * and each group's options. The tensors are the optimizer's own (as in
   * PyTorch): save or copy them before the next step.
   */
  stateDict(): OptimizerStateDict {
    const state: OptimizerStateDict["state"] = {};
    this.native.state().forEach((s, i) => {
      if (s) state[i] = { ...(s as Record<string, Tensor | number>) };
    });
    let index = 0;
    const paramGroups = this.paramGroups.map((group) => {
      const out: Record<string, unknown> & { params: number[] } = { params: [] };
      for (const [name, value] of Object.entries(group)) {
        if (name !== "params") out[name] = Array.isArray(value) ? value.slice() : value;
      }
      out.params = group.params.map(() => index++);
      return out;
    });
    return { state, paramGroups };
  }

  /** Restores a stateDict(): the groups' options and every parameter's state, matched by position. */
  loadStateDict(stateDict: OptimizerStateDict): void {
    if (typeof stateDict !== "object" || stateDict === null || !Array.isArray(stateDict.paramGroups) || typeof stateDict.state !== "object" || stateDict.state === null) {
      throw invalid("{ state, paramGroups } optimizer state dict", "stateDict", stateDict);
    }
    const saved = stateDict.paramGroups;
    if (saved.length !== this.paramGroups.length) {
      throw new Error(`loaded state dict has ${saved.length} parameter group(s), but the optimizer has ${this.paramGroups.length}`);
    }
    const params = this.paramGroups.flatMap((g) => g.params);
    saved.forEach((g, i) => {
      const n = Array.isArray(g?.params) ? g.params.length : -1;
      if (n !== this.paramGroups[i].params.length) {
        throw new Error(`loaded state dict's paramGroups[${i}] has ${n} parameters, but the optimizer's has ${this.paramGroups[i].params.length}`);
      }
    });
    const entries = new Map<number, NativeParamState>();
    for (const [key, entry] of Object.entries(stateDict.state)) {
      const i = Number(key);
      if (!Number.isInteger(i) || i < 0 || i >= params.length) throw new RangeError(`loaded state dict has state for parameter ${key}, but the optimizer has ${params.length} parameters`);
      if (typeof entry !== "object" || entry === null) throw invalid("object of state tensors", `state[${key}]`, entry);
      for (const [name, value] of Object.entries(entry)) {
        const where = `state[${key}].${name}`;
        if (!this.stateKeys.includes(name)) throw invalid(`one of ${this.stateKeys.join(", ")}`, `a state name of parameter ${key}`, name);
        if (name === "step") {
          checkNumber(value, where, { min: 0 });
          continue;
        }
        const t = checkTensor(value, where);
        if (t.shape.join(",") !== params[i].shape.join(",")) {
          throw new RangeError(`${where} has shape [${t.shape.join(", ")}] but its parameter has [${params[i].shape.join(", ")}]`);
        }
      }
      entries.set(i, entry as NativeParamState);
    }
    saved.forEach((g, i) => {
      const group = this.paramGroups[i] as Record<string, unknown>;
      for (const [name, value] of Object.entries(g)) {
        if (name === "params") continue;
        group[name] = Array.isArray(value) ? value.slice() : value; // options go through their setters, checked
      }
    });
    params.forEach((_, i) => this.native.setState(i, entries.get(i) ?? null));
  }

  private nativeOptions(name: string, value: unknown): [string, number | boolean][] {
    const spec = this.specs[name];
    return spec.toNative ? spec.toNative(value) : [[name, value as number | boolean]];
  }

  private groupView(index: number, tensors: Tensor[], values: Record<string, unknown>): ParamGroup<O> {
    const group = { params: tensors } as Record<string, unknown>;
    Object.defineProperty(group, "params", { value: tensors, enumerable: true, writable: false });
    for (const name of Object.keys(this.specs)) {
      let current = freeze(values[name]);
      Object.defineProperty(group, name, {
        enumerable: true,
        get: () => current,
        set: (value: unknown) => {
          const spec = this.specs[name];
          const checked = (spec.checkAssigned ?? spec.check)(value, `paramGroups[${index}].${name}`);
          this.checkGroup({ ...(group as object), [name]: checked } as O, `paramGroups[${index}]`);
          current = freeze(checked);
          for (const [n, v] of this.nativeOptions(name, checked)) this.native.setOption(index, n, v);
        },
      });
    }
    return group as ParamGroup<O>;
  }
}

function freeze<T>(value: T): T {
  return Array.isArray(value) ? (Object.freeze(value.slice()) as T) : value;
}

/** `params` as groups: a single iterable of Tensors, or a list of { params, ...options }. */
function parseGroups(params: unknown): { tensors: Tensor[]; overrides: Record<string, unknown>; where: string }[] {
  if (params === null || typeof (params as Iterable<unknown>)?.[Symbol.iterator] !== "function") {
    throw invalid("iterable of Tensors or array of { params, ... } groups", "params", params);
  }
  const list = [...(params as Iterable<unknown>)];
  if (list.length === 0) throw new RangeError("optimizer got an empty parameter list");
  if (isTensor(list[0])) return [{ tensors: list.map((p, i) => checkTensor(p, `params[${i}]`)), overrides: {}, where: "params" }];
  return list.map((group, g) => {
    const where = `params[${g}]`;
    const inner = (group as { params?: unknown })?.params;
    if (typeof group !== "object" || group === null || inner === null || typeof (inner as Iterable<unknown>)?.[Symbol.iterator] !== "function") {
      throw invalid("{ params: Tensor[], ... } parameter group", where, group);
    }
    const tensors = [...(inner as Iterable<unknown>)].map((p, i) => checkTensor(p, `${where}.params[${i}]`));
    if (tensors.length === 0) throw new RangeError(`optimizer got an empty parameter list in ${where} (${describe(inner)})`);
    return { tensors, overrides: group as Record<string, unknown>, where };
  });
}
