import { LEARNED_HEAD_FORMAT } from '@vad/clip';
import { GraphBuilder } from '@vad/models';
import onnxProto from 'onnx-proto';
import type { HeadWeights } from './head-model.js';

/** What the exported file says about the head (ONNX metadata_props, keys `vad.*`). */
export interface HeadMetadata {
  classes: string[];
  namedClasses: boolean;
  /** The embedding model whose frame vectors it was trained on. */
  model: string;
  seed: number;
  /** JSON-able summary of the training data. */
  data: unknown;
  validation: { kind: string; auc: number | undefined; videos: number };
  /** Anything else to record (loss, epochs…), as strings. */
  extra?: Record<string, string>;
}

/**
 * The head as ONNX (opset 17), built with vad's own graph builder. Tensor
 * contract (docs/models.md): input `clips` float32 [1, N, D], N dynamic;
 * outputs `score` float32 [1, N] (sigmoid) and `logits` float32 [1, N, C].
 * Graph: MatMul (projection) → Transpose → Conv (kernel 3, pads 1 1) → Relu
 * → Transpose → MatMul + Add for the score logit (→ Sigmoid → Squeeze) and
 * for the class logits. The bytes depend only on the weights and the
 * metadata, so the same training gives the same file.
 */
export function exportHeadOnnx(weights: HeadWeights, metadata: HeadMetadata): Uint8Array {
  const { embeddingSize: D, projection: P, hidden: H, classes: C } = weights.shape;
  if (metadata.classes.length !== C) throw new Error(`${metadata.classes.length} class names for ${C} classes`);
  const g = new GraphBuilder('vad-learned-head');
  const clips = g.input('clips', 'float', [1, 'clips', D]);
  const projected = g.op('MatMul', [clips, g.weight('projection', [D, P], weights.projection)]);
  // Conv weight [H, P, 3] from the training layout [3P, H] (tap k, input channel i → row k·P + i).
  const kernel = new Float32Array(H * P * 3);
  for (let o = 0; o < H; o++)
    for (let i = 0; i < P; i++)
      for (let k = 0; k < 3; k++) kernel[(o * P + i) * 3 + k] = weights.conv[(k * P + i) * H + o] as number;
  const channelsFirst = g.op('Transpose', [projected], { perm: { ints: [0, 2, 1] } });
  const conv = g.op(
    'Conv',
    [channelsFirst, g.weight('conv', [H, P, 3], kernel), g.weight('conv_bias', [H], weights.convBias)],
    { kernel_shape: { ints: [3] }, pads: { ints: [1, 1] }, strides: { ints: [1] }, dilations: { ints: [1] } },
  );
  const hidden = g.op('Transpose', [g.op('Relu', [conv])], { perm: { ints: [0, 2, 1] } });
  const scoreWeight = new Float32Array(H);
  const classWeight = new Float32Array(H * C);
  for (let h = 0; h < H; h++) {
    scoreWeight[h] = weights.output[h * (1 + C)] as number;
    for (let c = 0; c < C; c++) classWeight[h * C + c] = weights.output[h * (1 + C) + 1 + c] as number;
  }
  const scoreLogit = g.op('Add', [
    g.op('MatMul', [hidden, g.weight('score_weight', [H, 1], scoreWeight)]),
    g.weight('score_bias', [1], weights.outputBias.slice(0, 1)),
  ]);
  g.op('Squeeze', [g.op('Sigmoid', [scoreLogit]), g.int64([2])], {}, 'score');
  g.op(
    'Add',
    [
      g.op('MatMul', [hidden, g.weight('class_weight', [H, C], classWeight)]),
      g.weight('class_bias', [C], weights.outputBias.slice(1)),
    ],
    {},
    'logits',
  );
  g.output('score', 'float', [1, 'clips']);
  g.output('logits', 'float', [1, 'clips', C]);

  const model = onnxProto.onnx.ModelProto.decode(g.serialize(17));
  model.producerName = 'vad-train';
  const entries: Record<string, string> = {
    'vad.format': LEARNED_HEAD_FORMAT,
    'vad.classes': JSON.stringify(metadata.classes),
    'vad.named_classes': String(metadata.namedClasses),
    'vad.embedding_size': String(D),
    'vad.model': metadata.model,
    'vad.clip_features': 'l2-normalised mean of the clip distinct frame embeddings',
    'vad.architecture': `projection ${D}->${P}, conv1d k3 ${P}->${H}, relu, dense ${H}->1+${C}`,
    'vad.seed': String(metadata.seed),
    'vad.data': JSON.stringify(metadata.data),
    'vad.validation': JSON.stringify(metadata.validation),
    'vad.validation_auc': metadata.validation.auc === undefined ? '' : String(metadata.validation.auc),
    ...metadata.extra,
  };
  model.metadataProps = Object.entries(entries).map(([key, value]) => ({ key, value }));
  return onnxProto.onnx.ModelProto.encode(model).finish();
}
