import { join } from 'node:path';
import { ClipTextEncoder, resolveModelPaths, resolveModelSpec } from '@vad/clip';
import type { Config, Logger } from '@vad/config';
import type { Repositories } from '@vad/db';
import {
  MomentThumbnails,
  SearchIndexService,
  SearchService,
  type TextEncoderPort,
  TextQueries,
  VectorCache,
} from '@vad/search';
import { ThumbnailStore } from '@vad/storage';
import { extractFrameAt, resolveFfmpegBinaries } from '@vad/video';

/** Search as a process holds it: the service, its index maintenance, and the text encoders it loaded. */
export interface SearchContext {
  service: SearchService;
  indexes: SearchIndexService;
  thumbnails: MomentThumbnails;
  close(): Promise<void>;
}

/** Where the nearest-neighbour indexes live: `<storage>/search-index/<model>/`. */
export const searchIndexRoot = (config: Pick<Config, 'storage'>) => join(config.storage.root, 'search-index');

/**
 * Search over the stored frame embeddings: text queries through each
 * model's own tokenizer and text encoder (loaded on first use, on the
 * configured execution provider), frame vectors cached up to
 * VAD_SEARCH_CACHE_MB, the index under the storage root, thumbnails made on demand.
 */
export function createSearchContext(config: Config, repos: Repositories, logger: Logger): SearchContext {
  const encoders = new Map<string, Promise<ClipTextEncoder>>();
  const sessionOptions = {
    provider: config.embed.provider,
    threads: config.embed.threads,
    graphOptimization: config.embed.graphOptimization,
  };
  const encoder = (model: string): Promise<TextEncoderPort> => {
    let loading = encoders.get(model);
    if (!loading) {
      loading = Promise.resolve().then(() => {
        const spec = resolveModelSpec(model, config.models.dir);
        return ClipTextEncoder.load(resolveModelPaths(config.models.dir, model, spec, ['text']), spec, sessionOptions);
      });
      // A model that failed to load is tried again by the next search.
      loading.catch(() => encoders.delete(model));
      encoders.set(model, loading);
    }
    return loading.then((text) => ({
      encode: (texts) => text.encode(texts),
      tokenCount: (t) => text.tokenizer.tokenize(t).length,
      contextLength: text.tokenizer.contextLength,
    }));
  };
  const loadVectors = (videoId: string, model: string) => repos.frameEmbeddings.loadVectors(videoId, model);
  const indexes = new SearchIndexService({
    root: searchIndexRoot(config),
    searchableVideos: (scope) => repos.search.searchableVideos(scope),
    loadVectors,
  });
  const binaries = resolveFfmpegBinaries(config.ffmpeg);
  const thumbnails = new MomentThumbnails(
    new ThumbnailStore(config.storage.root),
    (path, timeMs) => extractFrameAt(path, timeMs, binaries),
    (error, video, frame) => logger.warn({ err: error, videoId: video.id, frame }, 'no thumbnail for a sampled frame'),
  );
  const service = new SearchService({
    sources: {
      searchableVideos: (scope) => repos.search.searchableVideos(scope),
      exclusions: (scope) => repos.search.exclusions(scope),
      event: (id) => repos.search.event(id),
      cameraByName: (name) => repos.cameras.findByName(name),
    },
    texts: new TextQueries(encoder, repos.textEmbeddings),
    vectors: new VectorCache(loadVectors, config.search.cacheBytes),
    index: config.search.index === 'auto' ? (model) => indexes.index(model) : undefined,
    thumbnails,
    defaultModel: config.models.model,
    exactMaxFrames: config.search.exactMaxFrames,
    logger,
  });
  return {
    service,
    indexes,
    thumbnails,
    async close() {
      for (const loading of encoders.values()) await (await loading.catch(() => undefined))?.close();
      encoders.clear();
    },
  };
}
