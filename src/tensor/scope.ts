/**
 * Deterministic memory: every tensor created inside {@link tidy} is freed when the
 * function returns, except the tensors it returns (and those passed to {@link keep}).
 * As tfjs's `tf.tidy`. Tensors that no scope owns (made outside any scope, kept, or
 * returned from the outermost scope) live until `dispose()` or, as a safety net, until
 * the garbage collector collects them (a FinalizationRegistry then frees the native
 * tensor). Scoped tensors need no such registration, which keeps hot loops cheap.
 *
 * ```ts
 * const loss = tidy(() => logits.logSoftmax(1).neg().mean()); // intermediates freed
 * ```
 */
export interface Disposable {
  dispose(): void;
  /** @internal the scope that will free this tensor, if any */
  scope?: Set<Disposable>;
  /** @internal called when no scope owns this tensor any more */
  unowned?(): void;
}

const scopes: Set<Disposable>[] = [];

/** Registers a new tensor with the innermost scope. */
export function track<T extends Disposable>(t: T): T {
  const scope = scopes[scopes.length - 1];
  if (scope !== undefined) {
    scope.add(t);
    t.scope = scope;
  } else {
    t.unowned?.();
  }
  return t;
}

/** Exempts `t` from the scope that would free it (it must then be disposed by hand). */
export function keep<T extends Disposable>(t: T): T {
  if (t.scope !== undefined) {
    t.scope.delete(t);
    t.scope = undefined;
    t.unowned?.();
  }
  return t;
}

/** Runs `fn` and frees every tensor it created except those in its result. */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw error;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy(): the function returned a Promise; tidy only takes synchronous functions (await outside it)');
  }
  const kept = new Set<Disposable>();
  collect(result, kept, 0);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) {
      t.scope = parent;
      if (parent) parent.add(t);
      else t.unowned?.();
    } else {
      t.dispose();
    }
  }
  return result;
}

/** Frees every tensor found in `value` (a tensor, or arrays/objects of them). */
export function dispose(value: unknown): void {
  const found = new Set<Disposable>();
  collect(value, found, 0);
  for (const t of found) t.dispose();
}

function isDisposable(value: unknown): value is Disposable {
  return typeof value === 'object' && value !== null && typeof (value as Disposable).dispose === 'function' && 'scope' in value;
}

function collect(value: unknown, out: Set<Disposable>, depth: number): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (isDisposable(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, depth + 1);
  }
}

/**
 * Applies `fns` in turn, disposing each intermediate result as soon as the next
 * function has consumed it (never `input` itself), as PyTorch frees a temporary when
 * its last reference goes. Autograd keeps its own reference to what backward needs,
 * so this lowers peak memory without changing gradients.
 *
 * ```ts
 * const y = pipe(x, (t) => conv2d(t, w), (t) => batchNorm(t, bn), (t) => t.relu());
 * ```
 */
export function pipe<T extends Disposable>(input: T, ...fns: ((x: T) => T)[]): T {
  let current = input;
  for (const fn of fns) {
    const next = fn(current);
    if (current !== input && next !== current) current.dispose();
    current = next;
  }
  return current;
}
