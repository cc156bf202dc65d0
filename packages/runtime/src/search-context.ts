import { join } from 'node:path';
import type { Config, Logger } from '@vad/config';
import type { Repositories } from '@vad/db';
import {
  MomentThumbnails,
  SearchIndexService,
  SearchService,
  type SearchSources,
  type TextEncoderPort,
  TextQueries,
  VectorCache,
} from '@vad/search';
import { ThumbnailStore } from '@vad/storage';
import { extractFrameAt, resolveFfmpegBinaries } from '@vad/video';
import { TextEncoders } from './text-encoders.js';

/** Search as a process holds it: the service, its index maintenance, and the text encoders it loaded. */
export interface SearchContext {
  service: SearchService;
  indexes: SearchIndexService;
  thumbnails: MomentThumbnails;
  close(): Promise<void>;
}

/** Where the nearest-neighbour indexes live: `<storage>/search-index/<model>/`. */
export const searchIndexRoot = (config: Pick<Config, 'storage'>) => join(config.storage.root, 'search-index');

/** What search reads from the database, from the repositories. */
export function searchSources(repos: Pick<Repositories, 'search' | 'cameras'>): SearchSources {
  return {
    searchableVideos: (scope) => repos.search.searchableVideos(scope),
    exclusions: (scope) => repos.search.exclusions(scope),
    event: (id) => repos.search.event(id),
    cameraByName: (name) => repos.cameras.findByName(name),
  };
}

/** The search index's maintenance and loading (all the scheduler needs of search). */
export function createSearchIndexService(
  config: Pick<Config, 'storage'>,
  repos: Pick<Repositories, 'search' | 'frameEmbeddings'>,
): SearchIndexService {
  return new SearchIndexService({
    root: searchIndexRoot(config),
    searchableVideos: (scope) => repos.search.searchableVideos(scope),
    loadVectors: (videoId, model) => repos.frameEmbeddings.loadVectors(videoId, model),
  });
}

/**
 * Search over the stored frame embeddings: text queries through each
 * model's own tokenizer and text encoder (loaded on first use, on the
 * configured execution provider), frame vectors cached up to
 * VAD_SEARCH_CACHE_MB, the index under the storage root, thumbnails made on demand.
 */
export function createSearchContext(config: Config, repos: Repositories, logger: Logger): SearchContext {
  const encoders = new TextEncoders(config);
  const encoder = async (model: string): Promise<TextEncoderPort> => {
    const text = await encoders.get(model);
    return {
      encode: (texts) => text.encode(texts),
      tokenCount: (t) => text.tokenizer.tokenize(t).length,
      contextLength: text.tokenizer.contextLength,
    };
  };
  const indexes = createSearchIndexService(config, repos);
  const binaries = resolveFfmpegBinaries(config.ffmpeg);
  const thumbnails = new MomentThumbnails(
    new ThumbnailStore(config.storage.root),
    (path, timeMs) => extractFrameAt(path, timeMs, binaries),
    (error, video, frame) => logger.warn({ err: error, videoId: video.id, frame }, 'no thumbnail for a sampled frame'),
  );
  const service = new SearchService({
    sources: searchSources(repos),
    texts: new TextQueries(encoder, repos.textEmbeddings),
    vectors: new VectorCache(
      (videoId, model) => repos.frameEmbeddings.loadVectors(videoId, model),
      config.search.cacheBytes,
    ),
    index: config.search.index === 'auto' ? (model) => indexes.index(model) : undefined,
    thumbnails,
    defaultModel: config.models.model,
    exactMaxFrames: config.search.exactMaxFrames,
  });
  return { service, indexes, thumbnails, close: () => encoders.close() };
}
