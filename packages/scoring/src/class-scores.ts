import type { PromptList } from './prompts.js';
import { dot, normalize, softmax, type Vector, weightedMean } from './vectors.js';

export interface ClassSpace {
  classes: string[];
  normalIndex: number;
  /** One unit vector per class: the renormalised mean of its prompts' embeddings. */
  embeddings: Vector[];
  logitScale: number;
}

/** Averages the prompt embeddings of each class (prompt ensembling) into one unit vector per class. */
export function buildClassSpace(list: PromptList, promptEmbeddings: readonly Vector[], logitScale: number): ClassSpace {
  if (promptEmbeddings.length !== list.prompts.length) {
    throw new Error(`${promptEmbeddings.length} embeddings for ${list.prompts.length} prompts`);
  }
  const embeddings = list.classes.map((_, c) =>
    normalize(weightedMean(promptEmbeddings.filter((_, i) => list.classOf[i] === c).map(normalize))),
  );
  return { classes: list.classes, normalIndex: list.normalIndex, embeddings, logitScale };
}

export interface ClassScore {
  /** Probability of each class (softmax of logitScale × cosine), in ClassSpace order. */
  probabilities: number[];
  /** 1 − p(normal). */
  anomalyScore: number;
  /** The most likely abnormal class. */
  label: string;
}

/** Zero-shot class probabilities of one feature (frame or clip sequence feature). */
export function scoreFeature(feature: Vector, space: ClassSpace): ClassScore {
  const unit = normalize(feature);
  const probabilities = softmax(space.embeddings.map((c) => space.logitScale * dot(unit, c)));
  let best = -1;
  probabilities.forEach((p, c) => {
    if (c !== space.normalIndex && (best < 0 || p > (probabilities[best] as number))) best = c;
  });
  return {
    probabilities,
    anomalyScore: 1 - (probabilities[space.normalIndex] ?? 0),
    label: space.classes[best] ?? space.classes[0] ?? 'unknown',
  };
}
