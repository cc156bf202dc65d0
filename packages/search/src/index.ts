export { SearchError } from './errors.js';
export { FrameIndex, INDEX_SETTINGS, type IndexHit } from './frame-index.js';
export { type IndexUpdate, SearchIndexService } from './index-service.js';
export { MomentThumbnails, type ThumbnailSource } from './moment-thumbnails.js';
export {
  DEFAULT_MOMENT_OPTIONS,
  findMoments,
  type Moment,
  type MomentOptions,
  relativeScore,
  type ScoredFrames,
  type ScoreStats,
  ScoreStatsAccumulator,
} from './moments.js';
export {
  type ParsedSearchRequest,
  SEARCH_MAX_LIMIT,
  SEARCH_MAX_OFFSET,
  SEARCH_TEXT_MAX_CHARS,
  type SearchRequest,
  searchRequestSchema,
} from './search-request.js';
export {
  type SearchMoment,
  type SearchResult,
  SearchService,
  type SearchServiceDeps,
  type SearchSources,
} from './search-service.js';
export { SEARCH_TEMPLATES, type TextEncoderPort, TextQueries } from './text-queries.js';
export { VectorCache } from './vector-cache.js';
export { type StoredFrame, VideoVectors } from './video-vectors.js';
