#!/usr/bin/env node
/**
 * The addon's op table: every op in native/src declares its signature beside its body,
 * `def("view", "tensor, ints -> tensor", [](Args& a) { ... })` (the kinds: native/src/common.h).
 * From those strings this writes src/tensor/nativeOps.generated.ts, the typed surface that the
 * tensor layer calls, so argument order and kinds are checked by the TypeScript compiler; and
 * `checkBodies` checks the C++ side: each body reads its arguments with the accessors its signature
 * declares (test/nativeSignatures.test.ts). The dispatcher refuses calls with more arguments.
 *
 *   node native/signatures.cjs            writes the generated file when it changed (npm run build:ts)
 *   node native/signatures.cjs --check    exits 1 when a body disagrees with its signature
 */
'use strict';
const { readFileSync, readdirSync, writeFileSync, existsSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const GENERATED = join(ROOT, 'src', 'tensor', 'nativeOps.generated.ts');

/** TypeScript types of the argument kinds. */
const ARG_TYPES = {
  tensor: 'NativeHandle', tensors: 'readonly NativeHandle[]', int: 'number', ints: 'number | readonly number[]',
  number: 'number', numbers: 'number | readonly number[]', scalar: 'number | boolean', bool: 'boolean', string: 'string',
  dtype: 'DType', device: 'string', generator: 'NativeGenerator', typedarray: 'ArrayBufferView', handle: 'unknown',
};
/** TypeScript types of the result kinds. */
const RESULT_TYPES = {
  tensor: 'NativeHandle', 'tensor?': 'NativeHandle | null', tensors: 'NativeHandle[]', 'tensor?[]': '(NativeHandle | null)[]',
  int: 'number', number: 'number', ints: 'number[]', bool: 'boolean', string: 'string', void: 'void',
  object: 'Record<string, unknown>', buffer: 'Buffer', generator: 'NativeGenerator',
  typedarray: 'Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int16Array | Int8Array',
};

/** Every .cc file under native/src, recursively. */
function sourceFiles(dir = join(__dirname, 'src')) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.cc')) out.push(path);
  }
  return out;
}

/** The text of the balanced {...} block that opens at `start`. */
function block(text, start) {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error('unbalanced braces');
}

/** Parses "a, b?, c|d -> r" into { args: [{ kinds, optional }], result }. */
function parseSignature(signature, where) {
  const m = /^(.*?)\s*->\s*(\S+)\s*$/.exec(signature);
  if (!m) throw new Error(`${where}: signature "${signature}" has no "-> result"`);
  const args = m[1].trim() === '' ? [] : m[1].split(',').map((part) => {
    const text = part.trim();
    const optional = text.endsWith('?');
    const kinds = text.replace(/\?$/, '').split('|');
    for (const k of kinds) if (!(k in ARG_TYPES)) throw new Error(`${where}: unknown argument kind '${k}' in "${signature}"`);
    return { kinds, optional };
  });
  if (!(m[2] in RESULT_TYPES)) throw new Error(`${where}: unknown result kind '${m[2]}' in "${signature}"`);
  return { args, result: m[2] };
}

/**
 * The ops of the given sources: { name, signature, file, body } for each `def("name", "signature", lambda)`,
 * including those made by a macro (`#define UNARY(js, fn) def(js, "tensor -> tensor", ...)`).
 */
function parseOps(files = sourceFiles()) {
  const ops = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const where = relative(ROOT, file);
    const macros = new Map();
    for (const m of text.matchAll(/#define (\w+)\(js, \w+\)[\s\\]*def\(js, "([^"]*)", \[[^\]]*\]\s*\(Args&\s*a?\)\s*(?:->\s*[\w:<>]+\s*)?\{/g)) {
      macros.set(m[1], { signature: m[2], body: block(text, m.index + m[0].length - 1).replace(/\\\n/g, '\n') });
    }
    for (const m of text.matchAll(/\bdef\("(\w+)",\s*"([^"]*)",\s*\[[^\]]*\]\s*\(Args&\s*a?\)\s*(?:->\s*[\w:<>]+\s*)?\{/g)) {
      ops.push({ name: m[1], signature: m[2], file: where, body: block(text, m.index + m[0].length - 1) });
    }
    for (const [macro, { signature, body }] of macros) {
      for (const m of text.matchAll(new RegExp(`\\b${macro}\\("(\\w+)", (\\w+)\\)`, 'g'))) {
        ops.push({ name: m[1], signature, file: where, body: body.replace(/\bfn\b|\bmethod\b/g, m[2]) });
      }
    }
    if (/\bdef\("\w+",\s*\[/.test(text)) throw new Error(`${where}: an op is registered without a signature (def("name", "kinds -> result", ...))`);
  }
  for (const op of ops) op.parsed = parseSignature(op.signature, `${op.file}: ${op.name}`);
  return ops;
}

/** The argument kinds each Args accessor reads (native/src/common.h); `optional`: it copes with a missing argument. */
const ACCESSORS = {
  tensor: { kinds: ['tensor'] }, optTensor: { kinds: ['tensor'], optional: true }, tensors: { kinds: ['tensors'] },
  integer: { kinds: ['int'] }, integerOr: { kinds: ['int'], optional: true }, optInteger: { kinds: ['int'], optional: true },
  ints: { kinds: ['ints'] }, number: { kinds: ['number', 'scalar'] }, numberOr: { kinds: ['number'], optional: true },
  optNumber: { kinds: ['number'], optional: true }, doubles: { kinds: ['numbers'] },
  scalar: { kinds: ['scalar'] }, scalarOr: { kinds: ['scalar'], optional: true }, optScalar: { kinds: ['scalar'], optional: true },
  boolean: { kinds: ['bool'] }, booleanOr: { kinds: ['bool'], optional: true },
  string: { kinds: ['string'] }, stringOr: { kinds: ['string'], optional: true },
  dtype: { kinds: ['dtype'] }, optDtype: { kinds: ['dtype'], optional: true }, generator: { kinds: ['generator'], optional: true },
  raw: { kinds: ['typedarray', 'handle'] },
  // questions, not reads: they need an argument that may be absent or of more than one kind
  has: { question: true }, isTensor: { question: true }, isNumber: { question: true }, isString: { question: true },
};
/** Helpers that read arguments for a body: name -> the kinds of the indices they are given. */
const HELPERS = {
  options: [{ kinds: ['dtype'], optional: true }, { kinds: ['device'], optional: true }],      // a.options(dtype, device)
  placed: [{ kinds: ['dtype'], optional: true }, { kinds: ['device'], optional: true }],       // placed(a, t, dtype, device)
  reduction: [{ kinds: ['string'], optional: true }],                                          // reduction(a, i)
};

/** What disagrees between each op's body and its signature: an empty list when all agree. */
function checkBodies(ops = parseOps()) {
  const problems = [];
  const seen = new Map();
  for (const op of ops) {
    const say = (text) => problems.push(`${op.file}: ${op.name} ("${op.signature}"): ${text}`);
    const previous = seen.get(op.name);
    if (previous && previous.signature !== op.signature) say(`registered again with another signature ("${previous.signature}", ${previous.file})`);
    seen.set(op.name, op);
    const { args } = op.parsed;
    const read = new Set();
    const reads = [];
    for (const m of op.body.matchAll(/\ba\.(\w+)\((\d+)/g)) {
      const accessor = ACCESSORS[m[1]];
      if (accessor) reads.push({ index: Number(m[2]), what: `a.${m[1]}(${m[2]})`, ...accessor });
    }
    for (const m of op.body.matchAll(/\b(?:a\.(options)\(|(placed)\(a,\s*\w+,\s*|(reduction)\(a,\s*)(\d+)(?:,\s*(\d+))?\)/g)) {
      const helper = HELPERS[m[1] ?? m[2] ?? m[3]];
      [m[4], m[5]].forEach((index, k) => { if (index !== undefined) reads.push({ index: Number(index), what: `${m[0]}`, ...helper[k] }); });
    }
    for (const r of reads) {
      const declared = args[r.index];
      if (declared === undefined) { say(`${r.what} reads argument ${r.index}, the signature declares ${args.length}`); continue; }
      read.add(r.index);
      if (r.question) {
        if (!declared.optional && declared.kinds.length === 1) say(`${r.what} asks about argument ${r.index}, declared as always there and of one kind (${declared.kinds[0]})`);
        continue;
      }
      if (!r.kinds.some((k) => declared.kinds.includes(k))) say(`${r.what} reads argument ${r.index} as ${r.kinds.join(' or ')}, declared ${declared.kinds.join('|')}`);
      if (r.optional && !declared.optional) say(`${r.what} copes with a missing argument ${r.index}, declared required (add ?)`);
    }
    args.forEach((_, i) => { if (!read.has(i)) say(`argument ${i} is declared but never read`); });
  }
  return problems;
}

/** The TypeScript of the generated file. */
function generate(ops = parseOps()) {
  const byName = new Map();
  for (const op of ops) if (!byName.has(op.name)) byName.set(op.name, op);
  const lines = [
    '// Generated by native/signatures.cjs from the op signatures in native/src (npm run build:ts writes it); do not edit.',
    "import type { DType } from './dtype.js';",
    "import type { NativeGenerator, NativeHandle } from './native.js';",
    '',
    '/** The addon\'s ops, as the C++ side declares them: one typed function each. */',
    'export interface NativeOps {',
  ];
  for (const op of [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const { args, result } = op.parsed;
    const params = args.map((arg, i) => {
      const type = arg.kinds.map((k) => ARG_TYPES[k]).join(' | ');
      const trailingOptional = args.slice(i).every((a) => a.optional);
      return arg.optional ? (trailingOptional ? `a${i}?: ${type} | null` : `a${i}: ${type} | null | undefined`) : `a${i}: ${type}`;
    });
    lines.push(`  /** ${op.signature} (${op.file}) */`);
    lines.push(`  ${op.name}: (${params.join(', ')}) => ${RESULT_TYPES[result]};`);
  }
  lines.push('}', '');
  return lines.join('\n');
}

module.exports = { parseOps, parseSignature, checkBodies, generate, sourceFiles, GENERATED };

if (require.main === module) {
  const ops = parseOps();
  if (process.argv.includes('--check')) {
    const problems = checkBodies(ops);
    for (const p of problems) console.error(p);
    process.exit(problems.length ? 1 : 0);
  }
  const text = generate(ops);
  if (!existsSync(GENERATED) || readFileSync(GENERATED, 'utf8') !== text) {
    writeFileSync(GENERATED, text);
    console.log(`native/signatures.cjs: wrote ${relative(ROOT, GENERATED)} (${new Set(ops.map((o) => o.name)).size} ops)`);
  }
}
