/**
 * Builds an ONNX graph node by node: named initializers taken from selfsup tensors (float32,
 * row-major, little-endian), constants, operators with typed attributes, and inputs / outputs
 * whose dimensions may be symbolic ('batch'). Values get readable names from the module path
 * that made them (`layer1.0.conv1`), so a graph viewer (Netron) shows the network as the code has it.
 *
 * ```ts
 * const g = new OnnxGraph('resnet18');
 * const x = g.input('pixel_values', ['batch', 3, 32, 32]);
 * const y = g.node('Conv', [x, g.weight('conv1.weight', conv.weight)], { strides: [1, 1], pads: [1, 1, 1, 1] }, 'conv1');
 * g.output(y, ['batch', 64, 32, 32]);
 * const bytes = g.toModel({ metadata: { image_size: '32' } });
 * ```
 */
import type { Tensor } from '../tensor/index.js';
import { tidy } from '../tensor/index.js';
import {
  ATTRIBUTE_TYPE, ONNX_FLOAT, ONNX_INT64, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxValueInfo, encodeOnnxModel,
} from './onnxProto.js';

/** ONNX opset used by every exported graph: 17 is the first with LayerNormalization, and what python3-onnx 1.12 checks. */
export const ONNX_OPSET = 17;
/** IR version 8 goes with opset 17. */
export const ONNX_IR_VERSION = 8;

/** A float attribute (a plain number is an int attribute, a number[] an ints attribute). */
export const float = (value: number): { float: number } => ({ float: value });
export type AttributeValue = number | number[] | string | { float: number };

export type Dim = number | string;

export class OnnxGraph {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly names = new Set<string>();

  constructor(readonly name: string) {}

  /** A graph input of float32 values. */
  input(name: string, dims: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), dims));
    return name;
  }

  /** Marks `value` as a graph output, renamed `name` through an Identity when they differ. */
  output(value: string, dims: Dim[], name = value): string {
    if (name !== value) this.nodes.push({ name: `${name}.identity`, opType: 'Identity', input: [value], output: [this.claim(name)], attribute: [] });
    this.outputs.push(valueInfo(name, dims));
    return name;
  }

  /** A float32 initializer holding `t`'s values (copied now; `t` stays the caller's). */
  weight(name: string, t: Tensor): string {
    const bytes = tidy(() => t.detach().float().contiguous().toBytes());
    this.initializers.push({ name: this.claim(name), dims: [...t.shape], dataType: ONNX_FLOAT, rawData: bytes });
    return name;
  }

  /** An int64 initializer (shapes, axes, indices); `dims` [] makes a scalar. */
  int64s(name: string, values: number[], dims: number[] = [values.length]): string {
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name: this.claim(name), dims, dataType: ONNX_INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** A float32 scalar initializer. */
  scalar(name: string, value: number): string {
    this.initializers.push({ name: this.claim(name), dims: [], dataType: ONNX_FLOAT, rawData: new Uint8Array(new Float32Array([value]).buffer) });
    return name;
  }

  /** Adds an operator; its output is named `name` (unique) and returned. */
  node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, name = `${opType.toLowerCase()}_${this.nodes.length}`): string {
    const output = this.claim(this.names.has(name) ? `${name}_${this.nodes.length}` : name);
    this.nodes.push({ name: output, opType, input: inputs, output: [output], attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)) });
    return output;
  }

  /** The model's bytes (a ModelProto at IR 8, opset 17), with string metadata for consumers. */
  toModel(o: { metadata?: Record<string, string>; docString?: string; producerVersion?: string } = {}): Uint8Array {
    return encodeOnnxModel({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'selfsup',
      producerVersion: o.producerVersion ?? '',
      docString: o.docString,
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`OnnxGraph: the value name '${name}' is already taken`);
    this.names.add(name);
    return name;
  }
}

function valueInfo(name: string, dims: Dim[]): OnnxValueInfo {
  return { name, type: { tensorType: { elemType: ONNX_FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

function attribute(name: string, value: AttributeValue): OnnxAttribute {
  if (typeof value === 'string') return { name, type: ATTRIBUTE_TYPE.string, s: Buffer.from(value, 'utf8') };
  if (Array.isArray(value)) {
    if (!value.every(Number.isInteger)) throw new Error(`ONNX attribute ${name}: ints expected, got [${value.join(', ')}]`);
    return { name, type: ATTRIBUTE_TYPE.ints, ints: value };
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`ONNX attribute ${name}: ${value} is not an int (wrap floats with float())`);
    return { name, type: ATTRIBUTE_TYPE.int, i: value };
  }
  return { name, type: ATTRIBUTE_TYPE.float, f: value.float };
}
