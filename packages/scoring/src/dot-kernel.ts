/**
 * Dot products of query vectors with the rows of a fixed matrix, the inner
 * loop of the normal memory's nearest-neighbour search. Plain JavaScript
 * reaches about 1 G multiply-adds per second; a small WebAssembly SIMD kernel
 * (f32x4, built below from its opcodes: no toolchain, no binary blob) about
 * 7, so a night of 3,600 clips against 4,000 memory features of 512
 * dimensions takes about a second instead of eight. Where WebAssembly SIMD
 * is missing the JavaScript loop gives the same results (to float rounding).
 */

type Bytes = number[];

const uleb = (value: number): Bytes => {
  const out: Bytes = [];
  let n = value >>> 0;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
const sleb = (value: number): Bytes => {
  const out: Bytes = [];
  let n = value | 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
};
const vec = (items: Bytes[]): Bytes => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: Bytes): Bytes => [id, ...uleb(bytes.length), ...bytes];
const name = (text: string): Bytes => [...uleb(text.length), ...[...text].map((c) => c.charCodeAt(0))];

const I32 = 0x7f;
const V128 = 0x7b;
const get = (local: number): Bytes => [0x20, ...uleb(local)];
const set = (local: number): Bytes => [0x21, ...uleb(local)];
const tee = (local: number): Bytes => [0x22, ...uleb(local)];
const i32 = (n: number): Bytes => [0x41, ...sleb(n)];
const ADD = [0x6a];
const SHL = [0x74];
const GE_U = [0x4f];
const LT_U = [0x49];
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = [0x0b];
const brIf = (depth: number): Bytes => [0x0d, depth];
const br = (depth: number): Bytes => [0x0c, depth];
const simd = (op: number): Bytes => [0xfd, ...uleb(op)];
const V128_LOAD = [...simd(0x00), 4, 0];
const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const lane = (n: number): Bytes => [...simd(0x1f), n];
const F32_ADD = [0x92];
const f32Store = (offset: number): Bytes => [0x38, 2, ...uleb(offset)];

/** The four lanes of a v128 local summed into one f32 on the stack. */
const horizontalSum = (local: number): Bytes => [
  ...get(local),
  ...lane(0),
  ...get(local),
  ...lane(1),
  ...F32_ADD,
  ...get(local),
  ...lane(2),
  ...F32_ADD,
  ...get(local),
  ...lane(3),
  ...F32_ADD,
];

/**
 * dots(q, m, rows, dim, out, lanes): `lanes` (1 or 4) query vectors at byte
 * offset q, one after the other, times each of `rows` rows at byte offset m
 * (dim floats each, dim a multiple of 4); out[row * lanes + i] (f32) = row · query i.
 * Built for one lane count: dots1 and dots4 are the same loop with 1 and 4 accumulators.
 */
function dotsFunction(lanes: 1 | 4): Bytes {
  // Parameters: 0 q, 1 m, 2 rows, 3 dim, 4 out. Locals: 5 row, 6 t, 7 rowPtr, 8 rowBytes, 9..11 q1..q3, 12..15 acc, 16 x.
  const [Q, M, ROWS, DIM, OUT, ROW, T, ROW_PTR, ROW_BYTES] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const queries = [Q, 9, 10, 11].slice(0, lanes);
  const accs = [12, 13, 14, 15].slice(0, lanes);
  const X = 16;
  const body: Bytes = [
    ...get(DIM),
    ...i32(2),
    ...SHL,
    ...set(ROW_BYTES),
    ...queries.slice(1).flatMap((q, i) => [...get(queries[i] as number), ...get(ROW_BYTES), ...ADD, ...set(q)]),
    ...get(M),
    ...set(ROW_PTR),
    ...i32(0),
    ...set(ROW),
    ...BLOCK,
    ...LOOP,
    ...get(ROW),
    ...get(ROWS),
    ...GE_U,
    ...brIf(1),
    ...accs.flatMap((a) => [...V128_ZERO, ...set(a)]),
    ...i32(0),
    ...set(T),
    ...LOOP,
    ...get(ROW_PTR),
    ...get(T),
    ...ADD,
    ...V128_LOAD,
    ...set(X),
    ...accs.flatMap((a, i) => [
      ...get(a),
      ...get(X),
      ...get(queries[i] as number),
      ...get(T),
      ...ADD,
      ...V128_LOAD,
      ...F32X4_MUL,
      ...F32X4_ADD,
      ...set(a),
    ]),
    ...get(T),
    ...i32(16),
    ...ADD,
    ...tee(T),
    ...get(ROW_BYTES),
    ...LT_U,
    ...brIf(0),
    ...END,
    ...accs.flatMap((a, i) => [
      ...get(OUT),
      ...get(ROW),
      ...i32(lanes === 4 ? 4 : 2),
      ...SHL,
      ...ADD,
      ...horizontalSum(a),
      ...f32Store(i * 4),
    ]),
    ...get(ROW_PTR),
    ...get(ROW_BYTES),
    ...ADD,
    ...set(ROW_PTR),
    ...get(ROW),
    ...i32(1),
    ...ADD,
    ...set(ROW),
    ...br(0),
    ...END,
    ...END,
    ...END,
  ];
  const locals = vec([
    [...uleb(7), I32],
    [...uleb(5), V128],
  ]);
  const code = [...locals, ...body];
  return [...uleb(code.length), ...code];
}

function kernelModule(): Uint8Array {
  const signature = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([signature])),
    ...section(3, vec([[0], [0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...name('dots1'), 0x00, 0],
        [...name('dots4'), 0x00, 1],
        [...name('memory'), 0x02, 0],
      ]),
    ),
    ...section(10, vec([dotsFunction(1), dotsFunction(4)])),
  ]);
}

type Kernel = (q: number, m: number, rows: number, dim: number, out: number) => void;
interface KernelExports {
  dots1: Kernel;
  dots4: Kernel;
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
}

/** What is used of the WebAssembly API (not in the ES2023 lib these packages compile against). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;
function kernel(): object | null {
  if (compiled === undefined) {
    try {
      const bytes = kernelModule();
      compiled = wasmApi?.validate(bytes) ? new wasmApi.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Whether dot products run on WebAssembly SIMD here (else plain JavaScript). */
export function simdAvailable(): boolean {
  return kernel() !== null;
}

const PAGE = 65_536;

/**
 * A fixed row-major matrix (`rows` × `dim`, float32) to take dot products
 * with: `one` query at a time or `four` at once (the fast path: each row is
 * read once for four queries).
 */
export class DotProducts {
  readonly rows: number;
  private readonly wasm?: { exports: KernelExports; heap: Float32Array; query: number; out: number };
  /** The matrix, for the JavaScript loop; with WebAssembly SIMD it lives in the kernel's memory alone. */
  private readonly matrix: Float32Array;

  constructor(
    matrix: Float32Array,
    readonly dim: number,
    options: { simd?: boolean } = {},
  ) {
    this.matrix = matrix;
    if (!Number.isInteger(dim) || dim < 1 || matrix.length % dim !== 0)
      throw new RangeError(`a matrix of ${matrix.length} floats has no rows of ${dim}`);
    this.rows = matrix.length / dim;
    const module = options.simd === false || dim % 4 !== 0 ? null : kernel();
    if (!module || this.rows === 0) return;
    // Layout (floats): the matrix, four query rows, then four outputs per row.
    const query = matrix.length;
    const out = query + 4 * dim;
    const bytes = (out + 4 * this.rows) * 4;
    const instance = new (wasmApi as WasmApi).Instance(module);
    const exports = instance.exports as unknown as KernelExports;
    exports.memory.grow(Math.ceil(bytes / PAGE));
    const heap = new Float32Array(exports.memory.buffer);
    heap.set(matrix, 0);
    this.wasm = { exports, heap, query, out };
    // The kernel's memory holds the rows: the caller's array is not kept (a cache of many matrices holds each once).
    this.matrix = heap.subarray(0, matrix.length);
  }

  /** Bytes this instance holds: the rows, and with WebAssembly SIMD the kernel's query and output space. */
  get bytes(): number {
    return this.wasm ? this.wasm.heap.byteLength : this.matrix.byteLength;
  }

  /** Replaces row `row` of the matrix (a matrix filled as it goes: the coreset's chosen features). */
  setRow(row: number, vector: Float32Array): void {
    if (!Number.isInteger(row) || row < 0 || row >= this.rows) throw new RangeError(`no row ${row}`);
    this.matrix.set(vector.subarray(0, this.dim), row * this.dim);
  }

  /** A copy of row `row`. */
  row(row: number): Float32Array {
    if (!Number.isInteger(row) || row < 0 || row >= this.rows) throw new RangeError(`no row ${row}`);
    return this.matrix.slice(row * this.dim, (row + 1) * this.dim);
  }

  /** out[row] = row · query, for every row (or the first `rows`). */
  one(query: Float32Array, out: Float32Array, rows = this.rows): void {
    const { dim } = this;
    if (this.wasm) {
      const { exports, heap, query: q, out: o } = this.wasm;
      heap.set(query.subarray(0, dim), q);
      exports.dots1(q * 4, 0, rows, dim, o * 4);
      out.set(heap.subarray(o, o + rows));
      return;
    }
    const m = this.matrix;
    for (let r = 0; r < rows; r++) {
      const base = r * dim;
      let s = 0;
      for (let t = 0; t < dim; t++) s += (m[base + t] as number) * (query[t] as number);
      out[r] = s;
    }
  }

  /** out[row * 4 + i] = row · queries[i], for every row; fewer than four queries leave their lanes 0. */
  four(queries: readonly Float32Array[], out: Float32Array): void {
    const { dim, rows } = this;
    if (this.wasm) {
      const { exports, heap, query: q, out: o } = this.wasm;
      for (let i = 0; i < 4; i++) {
        const v = queries[i];
        if (v) heap.set(v.subarray(0, dim), q + i * dim);
        else heap.fill(0, q + i * dim, q + (i + 1) * dim);
      }
      exports.dots4(q * 4, 0, rows, dim, o * 4);
      out.set(heap.subarray(o, o + 4 * rows));
      return;
    }
    const m = this.matrix;
    const zero = new Float32Array(dim);
    const [q0, q1, q2, q3] = [0, 1, 2, 3].map((i) => queries[i] ?? zero) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    for (let r = 0; r < rows; r++) {
      const base = r * dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let t = 0; t < dim; t++) {
        const x = m[base + t] as number;
        s0 += x * (q0[t] as number);
        s1 += x * (q1[t] as number);
        s2 += x * (q2[t] as number);
        s3 += x * (q3[t] as number);
      }
      out[r * 4] = s0;
      out[r * 4 + 1] = s1;
      out[r * 4 + 2] = s2;
      out[r * 4 + 3] = s3;
    }
  }
}
