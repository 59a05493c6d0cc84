/**
 * Module: the base of every layer and model, as torch.nn.Module. Holds named
 * parameters (trainable tensors), buffers (state such as BatchNorm's running
 * statistics) and child modules, with dotted names that match PyTorch's state dicts.
 *
 * ```ts
 * class Net extends Module {
 *   fc = this.registerModule('fc', new Linear(4, 2));
 *   forward(x: Tensor): Tensor { return this.fc.forward(x); }
 * }
 * const net = new Net();
 * net.namedParameters();           // [['fc.weight', ...], ['fc.bias', ...]]
 * const teacher = net.clone();     // deep copy for an EMA teacher
 * ```
 *
 * Every method whose name starts with `forward` (forward, forwardTokens, forwardMasked, ...) runs
 * in its own memory scope, set up once per class here: the intermediates a forward pass makes are
 * freed when it returns (its result is kept), as PyTorch frees them when their last reference
 * goes, so model code reads like PyTorch's without `tidy`.
 */
import { type MemoryFormat, Tensor, keep, noGrad, tidy } from '../tensor/index.js';

export interface LoadReport {
  /** keys the module has and the state dict lacks */
  missing: string[];
  /** keys the state dict has and the module lacks */
  unexpected: string[];
  /** keys present in both with different shapes */
  mismatched: { key: string; expected: readonly number[]; got: readonly number[] }[];
}

export abstract class Module {
  /** train mode (dropout active, batch statistics) or eval mode */
  training = true;
  // Plain fields (not #private) so that clone() can copy them like any other field.
  /** @internal */ readonly _parameters = new Map<string, Tensor>();
  /** @internal */ readonly _buffers = new Map<string, Tensor>();
  /** @internal */ readonly _children = new Map<string, Module>();

  constructor() {
    scopeMethods(new.target.prototype, Module.prototype, isForwardPass);
  }

  /** Registers a trainable tensor under `name` (it requires grad and outlives scopes). */
  protected registerParameter(name: string, t: Tensor): Tensor {
    this.checkName(name);
    keep(t).requiresGrad_(true);
    this._parameters.set(name, t);
    return t;
  }

  /** Registers non-trainable state under `name` (saved in the state dict). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.checkName(name);
    this._buffers.set(name, keep(t));
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    this._children.set(name, m);
    return m;
  }

  private checkName(name: string): void {
    if (name === '' || name.includes('.')) throw new Error(`${this.constructor.name}: invalid name '${name}' (non-empty, no dots)`);
    if (this._parameters.has(name) || this._buffers.has(name) || this._children.has(name)) {
      throw new Error(`${this.constructor.name}: '${name}' is already registered`);
    }
  }

  namedChildren(): [string, Module][] {
    return [...this._children];
  }

  /** This module and every descendant, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this._children) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.collectTensors((m) => m._parameters);
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }
  namedBuffers(): [string, Tensor][] {
    return this.collectTensors((m) => m._buffers);
  }
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  private collectTensors(pick: (m: Module) => Map<string, Tensor>): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of pick(m)) out.push([prefix ? `${prefix}.${name}` : name, t]);
    }
    return out;
  }

  /**
   * Trainable parameters split for the optimizer: weight decay on weights, none on
   * biases and norm parameters (every tensor with one dimension or fewer), as timm's
   * param_groups_weight_decay and the SimCLR/BYOL LARS setups. Frozen ones are left out.
   */
  parameterGroups(weightDecay: number): { names: string[]; params: Tensor[]; weightDecay: number }[] {
    const decay = { names: [] as string[], params: [] as Tensor[], weightDecay };
    const noDecay = { names: [] as string[], params: [] as Tensor[], weightDecay: 0 };
    for (const [name, p] of this.namedParameters()) {
      if (!p.requiresGrad) continue;
      const group = p.ndim <= 1 ? noDecay : decay;
      group.names.push(name);
      group.params.push(p);
    }
    return [decay, noDecay];
  }

  /** Number of parameter elements (all, or trainable only). */
  parameterCount(all = true): number {
    return this.parameters().filter((p) => all || p.requiresGrad).reduce((n, p) => n + p.numel, 0);
  }

  /** Sets train mode on this module and all descendants. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Freezes (false) or unfreezes (true) every parameter of this sub-tree. */
  requiresGrad_(requiresGrad: boolean): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /**
   * Lays every 4-D parameter and buffer (convolution weights) out in `memoryFormat`, in place: as
   * PyTorch's `module.to(memory_format=torch.channels_last)`. State dicts and checkpoints do not
   * change (they are written row-major); parameters keep their identity, so call it before or after
   * making the optimizer.
   */
  toMemoryFormat(memoryFormat: MemoryFormat): this {
    for (const t of [...this.parameters(), ...this.buffers()]) {
      if (t.ndim === 4 && !t.isContiguous(memoryFormat)) tidy(() => { t.setData_(t.detach().contiguous(memoryFormat)); });
    }
    return this;
  }

  /** Drops the gradients of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Parameters and buffers by dotted name, as handles sharing the module's memory
   * (detached; tracked by the current scope like any new handle).
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [k, t] of [...this.namedParameters(), ...this.namedBuffers()]) out.set(k, t.detach());
    return out;
  }

  /**
   * Copies matching tensors into this module's parameters and buffers (dtype converted).
   * strict (default): any missing, unexpected or mis-shaped key throws an Error listing them
   * all and nothing is copied; non-strict: copies what matches and reports the rest.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadReport {
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const own = new Map([...this.namedParameters(), ...this.namedBuffers()]);
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
    for (const key of own.keys()) if (!entries.has(key)) report.missing.push(key);
    for (const [key, t] of entries) {
      const target = own.get(key);
      if (target === undefined) report.unexpected.push(key);
      else if (target.shape.join() !== t.shape.join()) report.mismatched.push({ key, expected: target.shape, got: t.shape });
    }
    const problems = report.missing.length + report.unexpected.length + report.mismatched.length;
    if ((options.strict ?? true) && problems > 0) {
      const lines = [
        ...report.missing.map((k) => `  missing: ${k}`),
        ...report.unexpected.map((k) => `  unexpected: ${k}`),
        ...report.mismatched.map((m) => `  shape of ${m.key}: expected [${m.expected.join(', ')}], got [${m.got.join(', ')}]`),
      ];
      throw new Error(`${this.constructor.name}.loadStateDict: ${problems} key(s) do not match:\n${lines.join('\n')}`);
    }
    noGrad(() => {
      for (const [key, t] of entries) {
        const target = own.get(key);
        if (target !== undefined && target.shape.join() === t.shape.join()) target.copy_(t);
      }
    });
    return report;
  }

  /**
   * A deep copy with its own parameters and buffers (same values, same requiresGrad):
   * the momentum encoder of MoCo/BYOL and the teacher of DINO start as one.
   */
  clone(): this {
    return cloneValue(this, new Map()) as this;
  }

  /** Frees every parameter and buffer of this sub-tree. */
  dispose(): void {
    for (const t of [...this.parameters(), ...this.buffers()]) t.dispose();
  }
}

const isForwardPass = (name: string) => /^forward([A-Z]|$)/.test(name);
const scopedPrototypes = new WeakMap<(name: string) => boolean, WeakSet<object>>();

/**
 * Wraps each method of `proto` and its ancestors up to `base` whose name passes `selected` in
 * {@link tidy}, once per class (the prototype's own functions are replaced; instances pay nothing).
 */
export function scopeMethods(proto: object, base: object, selected: (name: string) => boolean): void {
  let done = scopedPrototypes.get(selected);
  if (done === undefined) scopedPrototypes.set(selected, done = new WeakSet());
  for (let p = proto; p !== null && p !== base; p = Object.getPrototypeOf(p) as object) {
    if (done.has(p)) break;   // its ancestors were scoped with it
    done.add(p);
    for (const name of Object.getOwnPropertyNames(p)) {
      const descriptor = Object.getOwnPropertyDescriptor(p, name);
      if (!selected(name) || typeof descriptor?.value !== 'function') continue;
      const body = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(p, name, { ...descriptor, value: { [name](this: unknown, ...args: unknown[]) { return tidy(() => body.apply(this, args)); } }[name] });
    }
  }
}

/** Deep-copies modules and their tensors; other values are shared. `memo` keeps aliases aliased. */
function cloneValue(value: unknown, memo: Map<unknown, unknown>): unknown {
  if (memo.has(value)) return memo.get(value);
  if (value instanceof Tensor) {
    const copy = keep(tidy(() => value.detach().clone()));
    if (value.requiresGrad) copy.requiresGrad_(true);
    memo.set(value, copy);
    return copy;
  }
  if (value instanceof Module) {
    const copy = Object.create(Object.getPrototypeOf(value)) as Module;
    memo.set(value, copy);
    for (const key of Reflect.ownKeys(value)) {
      (copy as unknown as Record<PropertyKey, unknown>)[key] = cloneValue((value as unknown as Record<PropertyKey, unknown>)[key], memo);
    }
    return copy;
  }
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    memo.set(value, copy);
    for (const v of value) copy.push(cloneValue(v, memo));
    return copy;
  }
  if (value instanceof Map) {
    const copy = new Map();
    memo.set(value, copy);
    for (const [k, v] of value) copy.set(k, cloneValue(v, memo));
    return copy;
  }
  return value;
}



/** A module from one tensor to one tensor, the kind {@link Sequential} chains. */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}
