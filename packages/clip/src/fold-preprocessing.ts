import { createHash } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import {
  PREPROCESSING_KEY,
  type PreprocessingMetadata,
  parsePreprocessing,
  preprocessingEntry,
  UINT8_INPUT,
} from '@vad/models';
import onnxProto from 'onnx-proto';

/**
 * Folds vad's frame preprocessing into an image encoder's ONNX graph: the
 * float32 NCHW input [N,3,S,S] of a CLIP-style export (pixel_values,
 * Immich's image…) gives way to `pixels_uint8`, uint8 NHWC [N,S,S,3] — the
 * frames' RGB bytes as segments hold them — followed by
 * Cast(float) → Transpose(0,3,1,2) → Sub(mean·255) → Div(std·255), whose
 * output takes the original input's name, so the rest of the graph is
 * untouched. metadata_props gets `vad.preprocessing` (mean, std, size, the
 * names), so that a model is never folded twice and the runtime can tell.
 *
 * The edit is made on the protobuf wire format, not by decoding and encoding
 * the whole model: the weights (350 MB for Xenova's ViT-B/32) are copied as
 * they are, never turned into JavaScript objects, and every field this
 * project's ONNX schema does not know (newer ONNX versions) is kept byte for
 * byte. Only the graph's inputs, the opset imports and metadata are decoded.
 */

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;

/** Why a model cannot be folded: a message for the person who asked. */
export class FoldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FoldError';
  }
}

export interface FoldOptions {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** The side of the frames vad feeds (the model spec's inputSize); checked against a fixed input shape. */
  size?: number | undefined;
  /** The image input's name; default: pixel_values, image, input, images, or the graph's only input. */
  input?: string | undefined;
  /** Recorded in the metadata: the file it was folded from (see sampleSha256). */
  source?: PreprocessingMetadata['source'];
}

export type FoldPlan =
  | {
      status: 'folded';
      /** The new model's bytes, in order (views of the original where unchanged). */
      parts: Uint8Array[];
      byteLength: number;
      metadata: PreprocessingMetadata;
    }
  | { status: 'already-folded'; metadata: PreprocessingMetadata };

// ---- protobuf wire format -------------------------------------------------------------------

interface Field {
  number: number;
  wire: number;
  /** Where the field starts (its tag) and ends. */
  start: number;
  end: number;
  /** Length-delimited: where the payload starts. Varint: the value. */
  payload: number;
}

function readVarint(buf: Uint8Array, pos: number, limit: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= limit) throw new FoldError('not an ONNX model: truncated protobuf');
    const byte = buf[pos++] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
  throw new FoldError('not an ONNX model: malformed protobuf varint');
}

/** The fields of one protobuf message between `start` and `end`, without decoding their payloads. */
function* fields(buf: Uint8Array, start = 0, end = buf.length): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const [tag, afterTag] = readVarint(buf, pos, end);
    const number = Math.floor(tag / 8);
    const wire = tag & 7;
    if (number < 1) throw new FoldError('not an ONNX model: malformed protobuf field');
    let payload = afterTag;
    switch (wire) {
      case 0: {
        const [value, next] = readVarint(buf, afterTag, end);
        payload = value;
        pos = next;
        break;
      }
      case 1:
        pos = afterTag + 8;
        break;
      case 2: {
        const [length, next] = readVarint(buf, afterTag, end);
        payload = next;
        pos = next + length;
        break;
      }
      case 5:
        pos = afterTag + 4;
        break;
      default:
        throw new FoldError(`not an ONNX model: protobuf wire type ${wire}`);
    }
    if (pos > end) throw new FoldError('not an ONNX model: a protobuf field runs past its message');
    yield { number, wire, start: fieldStart, end: pos, payload };
  }
}

const utf8 = new TextDecoder('utf-8');
const text = (buf: Uint8Array, f: Field) => utf8.decode(buf.subarray(f.payload, f.end));
const payloadOf = (buf: Uint8Array, f: Field) => buf.subarray(f.payload, f.end);

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** A length-delimited field: tag, length, payload. */
function lengthDelimited(number: number, payload: Uint8Array): Uint8Array[] {
  return [varint(number * 8 + 2), varint(payload.length), payload];
}

// ---- ONNX pieces ----------------------------------------------------------------------------

interface GraphScan {
  nodes: Field[];
  inputs: { field: Field; info: onnxProto.onnx.ValueInfoProto }[];
  initializers: Map<string, { external: boolean }>;
  /** Every value and node name the graph's top level uses. */
  names: Set<string>;
}

function scanTensor(buf: Uint8Array, tensor: Field): { name: string; external: boolean } {
  let name = '';
  let external = false;
  for (const f of fields(buf, tensor.payload, tensor.end)) {
    if (f.number === 8 && f.wire === 2) name = text(buf, f);
    else if (f.number === 13 && f.wire === 2)
      external = true; // external_data
    else if (f.number === 14 && f.wire === 0 && f.payload === 1) external = true; // data_location EXTERNAL
  }
  return { name, external };
}

function scanGraph(buf: Uint8Array, graph: Field): GraphScan {
  const scan: GraphScan = { nodes: [], inputs: [], initializers: new Map(), names: new Set() };
  for (const f of fields(buf, graph.payload, graph.end)) {
    if (f.wire !== 2) continue;
    switch (f.number) {
      case 1: {
        scan.nodes.push(f);
        for (const n of fields(buf, f.payload, f.end)) {
          if (n.wire === 2 && n.number >= 1 && n.number <= 3) scan.names.add(text(buf, n)); // input, output, name
        }
        break;
      }
      case 5: {
        const tensor = scanTensor(buf, f);
        scan.initializers.set(tensor.name, { external: tensor.external });
        scan.names.add(tensor.name);
        break;
      }
      case 11: {
        const info = onnx.ValueInfoProto.decode(payloadOf(buf, f));
        scan.inputs.push({ field: f, info });
        scan.names.add(info.name);
        break;
      }
      case 12:
      case 13:
        scan.names.add(onnx.ValueInfoProto.decode(payloadOf(buf, f)).name);
        break;
      case 15:
        // sparse_initializer: its values and indices are TensorProtos (fields 1 and 2).
        for (const s of fields(buf, f.payload, f.end)) {
          if (s.wire === 2 && (s.number === 1 || s.number === 2)) {
            const tensor = scanTensor(buf, s);
            if (tensor.name) scan.names.add(tensor.name);
            if (tensor.external)
              scan.initializers.set(tensor.name || '(sparse initializer)', { external: tensor.external });
          }
        }
        break;
      default:
        break;
    }
  }
  return scan;
}

export interface OnnxHeader {
  irVersion: number;
  /** Opset version per domain ('' = the default ONNX domain). */
  opsets: Map<string, number>;
  metadata: Record<string, string>;
}

function headerField(header: OnnxHeader, buf: Uint8Array, f: Field): void {
  if (f.number === 1 && f.wire === 0) header.irVersion = f.payload;
  else if (f.number === 8 && f.wire === 2) {
    const opset = onnx.OperatorSetIdProto.decode(payloadOf(buf, f));
    const domain = opset.domain === 'ai.onnx' ? '' : (opset.domain ?? '');
    header.opsets.set(domain, Number(opset.version));
  } else if (f.number === 14 && f.wire === 2) {
    const entry = onnx.StringStringEntryProto.decode(payloadOf(buf, f));
    header.metadata[entry.key] = entry.value;
  }
}

/** The folded-preprocessing record of a model's metadata; an error for one that is there but unreadable. */
function preprocessingOf(header: OnnxHeader): PreprocessingMetadata | undefined {
  const parsed = parsePreprocessing(header.metadata[PREPROCESSING_KEY]);
  if (parsed instanceof Error) throw new FoldError(`the model's metadata is not vad's: ${parsed.message}`);
  return parsed;
}

const IMAGE_INPUTS = ['pixel_values', 'image', 'input', 'images'];

const dimText = (d: onnxProto.onnx.TensorShapeProto.IDimension) =>
  d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? String(d.dimValue) : '?';
const fixedDim = (d: onnxProto.onnx.TensorShapeProto.IDimension | undefined) =>
  d && !d.dimParam && d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0
    ? Number(d.dimValue)
    : undefined;
const elementName = (type: number) => (DataType[type] ?? `type ${type}`).toLowerCase();

/** A name not used in the graph (nor inside any node, subgraphs included). */
function freshName(buf: Uint8Array, scan: GraphScan, wanted: string, taken: Set<string>): string {
  const used = (name: string) => {
    if (scan.names.has(name) || taken.has(name)) return true;
    const bytes = Buffer.from(name, 'utf8');
    return scan.nodes.some((n) => Buffer.from(buf.buffer, buf.byteOffset + n.start, n.end - n.start).includes(bytes));
  };
  let name = wanted;
  for (let i = 1; used(name); i++) name = `${wanted}_${i}`;
  taken.add(name);
  return name;
}

function sameTriple(a: readonly number[], b: readonly number[]): boolean {
  return a.length === 3 && b.length === 3 && a.every((v, i) => Math.abs(v - (b[i] as number)) <= 1e-9 * Math.abs(v));
}

/**
 * Plans the fold of a model's bytes: the parts of the folded model, or
 * `already-folded` when its metadata says it takes uint8 frames already.
 * Throws FoldError with the reason for a model it cannot fold: not ONNX,
 * external-data weights, an opset before 7, no float32 NCHW image input.
 */
export function planFold(bytes: Uint8Array, options: FoldOptions): FoldPlan {
  try {
    return plan(bytes, options);
  } catch (error) {
    if (error instanceof FoldError) throw error;
    // protobuf decoding of a piece that is not what ONNX says it is
    throw new FoldError(`not an ONNX model: ${(error as Error).message}`);
  }
}

function plan(bytes: Uint8Array, options: FoldOptions): FoldPlan {
  const header: OnnxHeader = { irVersion: 0, opsets: new Map(), metadata: {} };
  let graph: Field | undefined;
  for (const f of fields(bytes)) {
    headerField(header, bytes, f);
    if (f.number === 7 && f.wire === 2) {
      if (graph) throw new FoldError('not an ONNX model: it has two graphs');
      graph = f;
    }
  }
  if (!graph || header.irVersion < 1) throw new FoldError('not an ONNX model: no graph or no IR version');
  const already = preprocessingOf(header);
  if (already) return { status: 'already-folded', metadata: already };

  const opset = header.opsets.get('') ?? 0;
  if (opset < 7) {
    throw new FoldError(
      `the model imports ONNX opset ${opset || '(none)'}; folding needs opset 7 or later (Cast, Transpose, Sub and Div with broadcasting)`,
    );
  }
  const scan = scanGraph(bytes, graph);
  const external = [...scan.initializers].filter(([, v]) => v.external).map(([name]) => name);
  if (external.length) {
    throw new FoldError(
      `its weights are in external-data files (${external.slice(0, 3).join(', ')}${external.length > 3 ? ', …' : ''}): vad folds single-file models only; export the model as one .onnx file (under 2 GB)`,
    );
  }

  const graphInputs = scan.inputs.filter((i) => !scan.initializers.has(i.info.name));
  const chosen = options.input
    ? graphInputs.find((i) => i.info.name === options.input)
    : (IMAGE_INPUTS.map((n) => graphInputs.find((i) => i.info.name === n)).find(Boolean) ??
      (graphInputs.length === 1 ? graphInputs[0] : undefined));
  if (!chosen) {
    const names = graphInputs.map((i) => i.info.name).join(', ') || 'none';
    throw new FoldError(
      options.input
        ? `the model has no input ${options.input} (inputs: ${names})`
        : `cannot tell which input is the image (inputs: ${names})`,
    );
  }
  const { info } = chosen;
  if (scan.initializers.has(info.name)) throw new FoldError(`the image input ${info.name} has an initializer`);
  const tensorType = info.type?.tensorType;
  const dims = tensorType?.shape?.dim ?? [];
  const shapeText = tensorType?.shape ? `[${dims.map(dimText).join(', ')}]` : 'of unknown shape';
  const refuse = (why: string) =>
    new FoldError(
      `the image input ${info.name} is ${elementName(tensorType?.elemType ?? 0)} ${shapeText}: ${why}; vad folds float32 NCHW [batch, 3, S, S] inputs`,
    );
  if (!tensorType || tensorType.elemType !== DataType.FLOAT) throw refuse('not float32');
  if (!tensorType.shape || dims.length !== 4) throw refuse('not 4-dimensional');
  const channels = fixedDim(dims[1]);
  if (channels !== undefined && channels !== 3) throw refuse(`${channels} channels, not 3 (channels first)`);
  const [height, width] = [fixedDim(dims[2]), fixedDim(dims[3])];
  if (height !== undefined && width !== undefined && height !== width) throw refuse('not square');
  const fixedSide = height ?? width;
  if (options.size !== undefined && fixedSide !== undefined && options.size !== fixedSide) {
    throw refuse(`its side is ${fixedSide}, the model spec's input size ${options.size}`);
  }
  for (const [what, values] of [
    ['mean', options.mean],
    ['std', options.std],
  ] as const) {
    if (
      values.length !== 3 ||
      values.some((v) => !Number.isFinite(v)) ||
      (what === 'std' && values.some((v) => v <= 0))
    )
      throw new FoldError(`${what} must be three finite numbers${what === 'std' ? ', positive' : ''}`);
  }

  // New names: the input, the prelude's intermediate values, its constants and nodes.
  const taken = new Set<string>();
  const input = freshName(bytes, scan, UINT8_INPUT, taken);
  const name = (n: string) => freshName(bytes, scan, `vad_preprocess/${n}`, taken);
  const [cast, nchw, centred, meanName, stdName] = ['cast', 'nchw', 'centred', 'mean255', 'std255'].map(name) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const nodeNames = ['Cast', 'Transpose', 'Sub', 'Div'].map((n) => name(n));
  const { AttributeType } = onnx.AttributeProto;
  const node = (i: number, opType: string, inputs: string[], output: string, attribute: object[] = []) =>
    onnx.NodeProto.encode({
      name: nodeNames[i],
      opType,
      input: inputs,
      output: [output],
      attribute,
    }).finish();
  const nodes = [
    node(0, 'Cast', [input], cast, [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }]),
    node(1, 'Transpose', [cast], nchw, [{ name: 'perm', type: AttributeType.INTS, ints: [0, 3, 1, 2] }]),
    node(2, 'Sub', [nchw, meanName], centred),
    node(3, 'Div', [centred, stdName], info.name),
  ];
  const constant = (constName: string, values: readonly number[]) =>
    onnx.TensorProto.encode({
      name: constName,
      dims: [1, 3, 1, 1],
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(Float32Array.from(values.map((v) => v * 255)).buffer),
    }).finish();
  const constants = [constant(meanName, options.mean), constant(stdName, options.std)];
  const side = (d: onnxProto.onnx.TensorShapeProto.IDimension | undefined, param: string) =>
    fixedDim(d) !== undefined
      ? { dimValue: fixedDim(d) }
      : options.size
        ? { dimValue: options.size }
        : { dimParam: param };
  const fixedBatch = fixedDim(dims[0]);
  const batch = dims[0]?.dimParam
    ? { dimParam: dims[0].dimParam }
    : fixedBatch !== undefined
      ? { dimValue: fixedBatch }
      : { dimParam: 'batch' };
  const newInput = onnx.ValueInfoProto.encode({
    name: input,
    type: {
      tensorType: {
        elemType: DataType.UINT8,
        shape: { dim: [batch, side(dims[2], 'height'), side(dims[3], 'width'), { dimValue: 3 }] },
      },
    },
  }).finish();
  const constantInputs =
    header.irVersion < 4 // before IR 4, every initializer must also be a graph input
      ? [meanName, stdName].map((n) =>
          onnx.ValueInfoProto.encode({
            name: n,
            type: {
              tensorType: { elemType: DataType.FLOAT, shape: { dim: [1, 3, 1, 1].map((dimValue) => ({ dimValue })) } },
            },
          }).finish(),
        )
      : [];
  const metadata: PreprocessingMetadata = {
    version: 1,
    input,
    dtype: 'uint8',
    layout: 'NHWC',
    size: fixedSide ?? options.size ?? null,
    mean: [...options.mean] as [number, number, number],
    std: [...options.std] as [number, number, number],
    feeds: info.name,
    ...(options.source ? { source: options.source } : {}),
  };

  // The graph: the prelude's nodes first (nodes are in topological order), then every original
  // field in place, the image input replaced by the uint8 one, then the two constants.
  const graphParts: Uint8Array[] = [];
  for (const n of nodes) graphParts.push(...lengthDelimited(1, n));
  graphParts.push(bytes.subarray(graph.payload, chosen.field.start));
  graphParts.push(...lengthDelimited(11, newInput));
  for (const c of constantInputs) graphParts.push(...lengthDelimited(11, c));
  graphParts.push(bytes.subarray(chosen.field.end, graph.end));
  for (const c of constants) graphParts.push(...lengthDelimited(5, c));
  const graphLength = graphParts.reduce((sum, p) => sum + p.length, 0);

  const [key, value] = Object.entries(preprocessingEntry(metadata))[0] as [string, string];
  const entry = onnx.StringStringEntryProto.encode({ key, value }).finish();
  const parts = [
    bytes.subarray(0, graph.start),
    varint(7 * 8 + 2),
    varint(graphLength),
    ...graphParts,
    bytes.subarray(graph.end),
    ...lengthDelimited(14, entry),
  ].filter((p) => p.length > 0);
  return { status: 'folded', parts, byteLength: parts.reduce((sum, p) => sum + p.length, 0), metadata };
}

/**
 * The model with vad's preprocessing folded into its graph (see planFold);
 * a model folded before comes back unchanged, so folding twice is folding once.
 */
export function foldPreprocessing(bytes: Uint8Array, options: FoldOptions): Uint8Array {
  const plan = planFold(bytes, options);
  if (plan.status === 'already-folded') return bytes;
  const out = new Uint8Array(plan.byteLength);
  let offset = 0;
  for (const part of plan.parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A model's IR version, opset imports and metadata_props, from its bytes. */
export function onnxHeader(bytes: Uint8Array): OnnxHeader {
  const header: OnnxHeader = { irVersion: 0, opsets: new Map(), metadata: {} };
  for (const f of fields(bytes)) headerField(header, bytes, f);
  return header;
}

/** Top-level ModelProto fields that may be big, skipped when reading a header from a file: graph, training_info, functions. */
const BIG_FIELDS = new Set([7, 20, 25]);

/**
 * The header of an ONNX file (IR version, opsets, metadata_props) read
 * without reading its graph: a few small reads, however big the model.
 */
export async function readOnnxHeader(path: string): Promise<OnnxHeader> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const header: OnnxHeader = { irVersion: 0, opsets: new Map(), metadata: {} };
    let pos = 0;
    const probe = Buffer.alloc(24);
    while (pos < size) {
      const { bytesRead } = await handle.read(probe, 0, probe.length, pos);
      const view = probe.subarray(0, bytesRead);
      const [tag, afterTag] = readVarint(view, 0, view.length);
      const number = Math.floor(tag / 8);
      const wire = tag & 7;
      let length: number;
      let payloadAt: number;
      if (wire === 2) {
        const [len, next] = readVarint(view, afterTag, view.length);
        length = len;
        payloadAt = next;
      } else if (wire === 0) {
        length = readVarint(view, afterTag, view.length)[1] - afterTag;
        payloadAt = afterTag;
      } else if (wire === 1 || wire === 5) {
        length = wire === 1 ? 8 : 4;
        payloadAt = afterTag;
      } else throw new FoldError(`${path} is not an ONNX model: protobuf wire type ${wire}`);
      const end = pos + payloadAt + length;
      if (end > size) throw new FoldError(`${path} is not an ONNX model: truncated`);
      if (!BIG_FIELDS.has(number)) {
        const field = Buffer.alloc(end - pos);
        await handle.read(field, 0, field.length, pos);
        for (const f of fields(field)) headerField(header, field, f);
      }
      pos = end;
    }
    return header;
  } finally {
    await handle.close();
  }
}

/** The `vad.preprocessing` record of an ONNX file, if it has one (see readOnnxHeader). */
export async function readPreprocessing(path: string): Promise<PreprocessingMetadata | undefined> {
  return preprocessingOf(await readOnnxHeader(path));
}

const SAMPLE = 1 << 20;

/**
 * A cheap fingerprint of a (big) file: sha256 of its size and three 1 MiB
 * samples (start, middle, end). Folded models record their source's, so that
 * a replaced or re-downloaded original is noticed at load without hashing
 * 350 MB.
 */
export async function sampleSha256(path: string): Promise<{ bytes: number; sampleSha256: string }> {
  const handle = await open(path, 'r');
  try {
    const bytes = (await handle.stat()).size;
    const hash = createHash('sha256').update(`${bytes}\n`);
    const offsets = bytes <= 3 * SAMPLE ? [0] : [0, Math.floor(bytes / 2) - SAMPLE / 2, bytes - SAMPLE];
    for (const offset of offsets) {
      const buffer = Buffer.alloc(Math.min(bytes <= 3 * SAMPLE ? bytes : SAMPLE, bytes - offset));
      await handle.read(buffer, 0, buffer.length, offset);
      hash.update(buffer);
    }
    return { bytes, sampleSha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/**
 * Writes the folded model of `source` to `target` (through a temporary file
 * renamed into place). Returns the plan's outcome; `already-folded` writes
 * nothing. The source is read whole (its size in memory once, the output
 * reuses its bytes).
 */
export async function foldModelFile(
  source: string,
  target: string,
  options: Omit<FoldOptions, 'source'>,
): Promise<FoldPlan> {
  const info = await stat(source);
  if (info.size >= 2 ** 31) {
    throw new FoldError(`${source} is ${info.size} bytes: vad folds single-file models under 2 GB only`);
  }
  const bytes = await readFile(source);
  const plan = planFold(bytes, { ...options, source: await sampleSha256(source) });
  if (plan.status === 'already-folded') return plan;
  const temporary = `${target}.tmp-${process.pid}`;
  const handle = await open(temporary, 'w');
  try {
    for (const part of plan.parts) {
      let written = 0;
      while (written < part.length) {
        const { bytesWritten } = await handle.write(part, written, part.length - written);
        written += bytesWritten;
      }
    }
    await handle.close();
    await rename(temporary, target);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    throw error;
  }
  return plan;
}

/** Where the folded model of an image encoder lies: beside it, `vision_model.onnx` → `vision_model.vad-folded.onnx`. */
export function foldedPathOf(imagePath: string): string {
  return `${imagePath.replace(/\.onnx$/i, '')}.vad-folded.onnx`;
}

/** Whether a folded model's record matches the preprocessing a spec asks for. */
export function preprocessingMatches(
  metadata: PreprocessingMetadata,
  expected: { mean: readonly number[]; std: readonly number[]; size: number },
): string | undefined {
  if (!sameTriple(metadata.mean, expected.mean) || !sameTriple(metadata.std, expected.std))
    return `it was folded with mean ${metadata.mean.join(',')} and std ${metadata.std.join(',')}, the model spec says ${expected.mean.join(',')} and ${expected.std.join(',')}`;
  if (metadata.size !== null && metadata.size !== expected.size)
    return `it takes ${metadata.size}×${metadata.size} frames, the model spec says ${expected.size}`;
  return undefined;
}
