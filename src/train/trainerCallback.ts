/**
 * A part of the training loop that acts after each trained step: the built-in monitors (the cost
 * estimate, the kNN monitor) and a user's own. Each gets the step's record (loss, lr, images/s and
 * the step's metrics) after it is logged and checkpointed, and may log metrics of its own
 * (`context.log`: a metrics.jsonl line and TensorBoard scalars) or print a line. Callbacks run on
 * every process of a data-parallel run; `context.lead` is the one that writes files.
 *
 * ```ts
 * const weightNorm: TrainerCallback = {
 *   onStep: (record, context) => {
 *     if (record.step % 100 === 0) context.log({ weight_norm: noGrad(() => norm(context.method.backbone)) });
 *   },
 * };
 * await pretrain(method, images, views, { ...options, callbacks: [weightNorm] });
 * ```
 */
import type { SSLMethod } from '../methods/index.js';
import type { StepRecord } from './runLog.js';

export interface StepContext {
  method: SSLMethod;
  /** steps of the whole run (Infinity for a run on a time budget), and of one epoch */
  totalSteps: number;
  stepsPerEpoch: number;
  /** the step the run (or this resumed part of it) started at */
  startStep: number;
  /** whether this step ended an epoch */
  epochEnded: boolean;
  /** whether this is the run's last step (its steps done, or its time budget spent) */
  lastStep: boolean;
  /** seconds the run has trained (resumed parts included; callbacks' own time not counted) */
  trainedSeconds: number;
  /** the run's time budget in seconds (`minutes`), when it has one */
  budgetSeconds?: number;
  /** this process writes the run's files (rank 0) */
  lead: boolean;
  /** the run folder */
  out: string;
  /** metrics at this step: a line of metrics.jsonl and TensorBoard scalars (under `scalarNames` where given) */
  log: (values: Record<string, number>, scalarNames?: Record<string, string>) => void;
  /** a line for the user (stderr of the lead process) */
  print: (line: string) => void;
}

export interface TrainerCallback {
  /** after every step that trained (skipped steps do not count), once it is logged and checkpointed */
  onStep?(record: StepRecord, context: StepContext): void | Promise<void>;
}
