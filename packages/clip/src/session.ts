import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

export type ExecutionProvider = 'cpu' | 'cuda' | 'auto';
export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  provider: ExecutionProvider;
  /** Intra-op threads; 0 lets onnxruntime choose (one per core). */
  threads: number;
  graphOptimization: GraphOptimization;
  /** Called when `auto` falls back to the CPU, with the reason. */
  onFallback?: (reason: string) => void;
}

export interface LoadedSession {
  session: ort.InferenceSession;
  /** The provider actually in use. */
  provider: 'cpu' | 'cuda';
}

function options(provider: 'cpu' | 'cuda', opts: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: opts.graphOptimization,
    ...(opts.threads > 0 ? { intraOpNumThreads: opts.threads } : {}),
  };
}

/**
 * Whether onnxruntime-node's CUDA provider library was installed (it is only
 * with ONNXRUNTIME_NODE_INSTALL=cuda12); without it there is nothing to try.
 */
export function cudaProviderInstalled(): boolean {
  const binding = dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
  const folder = join(binding, '..', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(join(folder, 'libonnxruntime_providers_cuda.so'));
}

/**
 * An onnxruntime session on the configured provider. `auto` tries CUDA and
 * falls back to the CPU (reporting why) when CUDA's libraries do not load;
 * `cuda` insists and fails with onnxruntime's reason.
 */
export async function createSession(path: string, opts: SessionOptions): Promise<LoadedSession> {
  const onCpu = async (): Promise<LoadedSession> => ({
    session: await ort.InferenceSession.create(path, options('cpu', opts)),
    provider: 'cpu',
  });
  if (opts.provider === 'cpu') return onCpu();
  if (opts.provider === 'auto' && !cudaProviderInstalled()) {
    opts.onFallback?.(
      'the CUDA provider of onnxruntime-node is not installed (install with ONNXRUNTIME_NODE_INSTALL=cuda12)',
    );
    return onCpu();
  }
  try {
    return { session: await ort.InferenceSession.create(path, options('cuda', opts)), provider: 'cuda' };
  } catch (error) {
    if (opts.provider === 'cuda') {
      throw new Error(
        `the CUDA execution provider could not be used (${(error as Error).message}); install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with CUDA 12 and cuDNN 9, or set VAD_EXECUTION_PROVIDER=cpu`,
      );
    }
    opts.onFallback?.((error as Error).message);
    return onCpu();
  }
}
