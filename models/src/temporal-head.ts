import { GraphBuilder } from './onnx-graph.js';

/**
 * vad's test temporal head ("vad-test-head", not a trained model): the
 * shape of a learned temporal head — input features [clips, T, D] and a
 * valid-frame mask [clips, T], output one sequence feature [clips, D] — made
 * of a masked mean over time (padding never counts) and a D×D projection
 * initialised to the identity. Tests use it to prove the `onnx` aggregator
 * path; a trained head exported to ONNX with the same inputs drops in.
 */
export function buildTemporalHead(embeddingSize: number): Uint8Array {
  const g = new GraphBuilder('vad-test-head');
  const features = g.input('features', 'float', ['clips', 'frames', embeddingSize]);
  const mask = g.input('mask', 'float', ['clips', 'frames']);
  // Σ_t mask·features / Σ_t mask: padding frames (mask 0) never count.
  const weighted = g.op('Mul', [features, g.op('Unsqueeze', [mask, g.int64([2])])]);
  const total = g.op('ReduceSum', [weighted, g.int64([1])], { keepdims: { int: 0 } });
  const count = g.op('ReduceSum', [mask, g.int64([1])], { keepdims: { int: 1 } });
  const pooled = g.op('Div', [total, g.op('Max', [count, g.float([1], [])])]);
  const identity = new Float32Array(embeddingSize * embeddingSize);
  for (let i = 0; i < embeddingSize; i++) identity[i * embeddingSize + i] = 1;
  g.op('MatMul', [pooled, g.weight('projection', [embeddingSize, embeddingSize], identity)], {}, 'sequence');
  g.output('sequence', 'float', ['clips', embeddingSize]);
  return g.serialize();
}
