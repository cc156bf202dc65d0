import { ClipTextEncoder, resolveModelPaths, resolveModelSpec, type SessionOptions } from '@vad/clip';
import type { Config } from '@vad/config';

/** The session options of a process's models: VAD_EXECUTION_PROVIDER, VAD_ORT_THREADS, VAD_GRAPH_OPTIMIZATION. */
export function sessionOptionsOf(config: Pick<Config, 'embed'>): SessionOptions {
  return {
    provider: config.embed.provider,
    threads: config.embed.threads,
    graphOptimization: config.embed.graphOptimization,
  };
}

/**
 * Text encoders by model, each loaded once on first use (on the configured
 * execution provider); one that failed to load is tried again next time.
 */
export class TextEncoders {
  private readonly loaded = new Map<string, Promise<ClipTextEncoder>>();

  constructor(private readonly config: Pick<Config, 'models' | 'embed'>) {}

  get(model: string): Promise<ClipTextEncoder> {
    let encoder = this.loaded.get(model);
    if (!encoder) {
      const { dir } = this.config.models;
      encoder = Promise.resolve().then(() => {
        const spec = resolveModelSpec(model, dir);
        return ClipTextEncoder.load(resolveModelPaths(dir, model, spec, ['text']), spec, sessionOptionsOf(this.config));
      });
      encoder.catch(() => this.loaded.delete(model));
      this.loaded.set(model, encoder);
    }
    return encoder;
  }

  /** Releases the encoders loaded so far. */
  async close(): Promise<void> {
    for (const encoder of this.loaded.values()) await encoder.then((e) => e.close()).catch(() => {});
    this.loaded.clear();
  }
}
