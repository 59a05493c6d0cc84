/**
 * Base of the optimizers: parameter groups with their own hyper-parameters, per-parameter
 * state, and updates done in place under no-grad (no new tensor per parameter per step
 * beyond libtorch's temporaries, which a scope frees).
 *
 * ```ts
 * const opt = new SGD(model.parameterGroups(5e-4), { lr: 0.1, momentum: 0.9 });
 * loss.backward(); opt.step(); opt.zeroGrad();
 * ```
 *
 * Gradient accumulation: gradients add up in `.grad` across backward calls, so
 * `k` micro-batches each backpropagating `loss / k` before one `step()` equal one batch
 * k times larger (tested).
 */
import { type Tensor, keep, noGrad, tidy, zeroGrads } from '../tensor/index.js';

export interface ParamGroupInput {
  params: Tensor[];
  lr?: number;
  weightDecay?: number;
  [option: string]: unknown;
}

export type ParamGroup<O> = O & { params: Tensor[] };

export abstract class Optimizer<O extends { lr: number; weightDecay: number }> {
  readonly groups: ParamGroup<O>[];
  /** per-parameter state (momentum buffers, moments), created on first use */
  protected readonly state = new Map<Tensor, Record<string, Tensor>>();
  /** steps taken */
  stepCount = 0;

  constructor(params: Tensor[] | ParamGroupInput[], defaults: O) {
    const groups: ParamGroupInput[] = params.length > 0 && !isGroup(params[0]) ? [{ params: params as Tensor[] }] : (params as ParamGroupInput[]);
    this.groups = groups.map((g) => {
      const group = { ...defaults, ...g } as ParamGroup<O>;
      if (!(group.lr >= 0)) throw new Error(`${this.constructor.name}: learning rate must be >= 0, got ${group.lr}`);
      if (!(group.weightDecay >= 0)) throw new Error(`${this.constructor.name}: weight decay must be >= 0, got ${group.weightDecay}`);
      return group;
    });
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    noGrad(() => tidy(() => {
      for (const group of this.groups) this.updateGroup(group);
    }));
  }

  /** Updates every parameter of `group` that has a gradient (one at a time; AdamW does a group in one call). */
  protected updateGroup(group: ParamGroup<O>): void {
    for (const p of group.params) {
      const grad = p.grad;
      if (grad === null) continue;
      let state = this.state.get(p);
      if (state === undefined) this.state.set(p, (state = {}));
      this.update(p, grad, state, group);
    }
  }

  /** Updates `p` in place from `grad`; tensors stored in `state` must be kept (see keepState). */
  protected abstract update(p: Tensor, grad: Tensor, state: Record<string, Tensor>, group: ParamGroup<O>): void;

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const group of this.groups) zeroGrads(group.params);
  }

  /**
   * Sets the learning rate of every group (schedules call this each step), times the group's
   * `lrScale` where it has one (a smaller rate for a pretrained backbone, layer-wise decay).
   */
  setLearningRate(lr: number): void {
    for (const group of this.groups) {
      const scale = (group as { lrScale?: unknown }).lrScale;
      group.lr = typeof scale === 'number' ? lr * scale : lr;
    }
  }

  /** Sets the weight decay of every group that has any (DINO's 0.04 -> 0.4 schedule); no-decay groups stay at 0. */
  setWeightDecay(weightDecay: number): void {
    for (const group of this.groups) if (group.weightDecay > 0) group.weightDecay = weightDecay;
  }

  /**
   * The state for a checkpoint: tensors keyed `<parameter index>.<name>` (parameters
   * numbered across groups in order) and the hyper-parameters of each group.
   */
  stateDict(): { tensors: Map<string, Tensor>; groups: Record<string, unknown>[]; stepCount: number } {
    const tensors = new Map<string, Tensor>();
    this.parameters().forEach((p, i) => {
      for (const [name, t] of Object.entries(this.state.get(p) ?? {})) tensors.set(`${i}.${name}`, t.detach());
    });
    const groups = this.groups.map(({ params, ...rest }) => ({ ...rest, size: params.length }));
    return { tensors, groups, stepCount: this.stepCount };
  }

  /** Restores a {@link stateDict} taken from an optimizer over parameters of the same shapes. */
  loadStateDict(saved: { tensors: Map<string, Tensor>; groups: Record<string, unknown>[]; stepCount: number }): void {
    const params = this.parameters();
    if (saved.groups.length !== this.groups.length || saved.groups.some((g, i) => g.size !== this.groups[i].params.length)) {
      throw new Error(`${this.constructor.name}.loadStateDict: the saved state has groups of ${saved.groups.map((g) => g.size).join('/')} parameters, this optimizer ${this.groups.map((g) => g.params.length).join('/')}`);
    }
    for (const [key, t] of saved.tensors) {
      const [index, name] = [Number(key.slice(0, key.indexOf('.'))), key.slice(key.indexOf('.') + 1)];
      const p = params[index];
      if (p === undefined || !name) throw new Error(`${this.constructor.name}.loadStateDict: state '${key}' names no parameter`);
      let state = this.state.get(p);
      if (state === undefined) this.state.set(p, (state = {}));
      state[name]?.dispose();
      state[name] = keep(t.clone());
    }
    saved.groups.forEach(({ size, ...hyper }, i) => Object.assign(this.groups[i], hyper));
    this.stepCount = saved.stepCount;
  }

  /** Every parameter, across groups in order. */
  parameters(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /** Frees the optimizer state. */
  dispose(): void {
    for (const s of this.state.values()) for (const t of Object.values(s)) t.dispose();
    this.state.clear();
  }
}

function isGroup(x: unknown): x is ParamGroupInput {
  return typeof x === 'object' && x !== null && Array.isArray((x as ParamGroupInput).params);
}
