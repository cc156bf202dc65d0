export { type CreateDatabaseOptions, createDatabase, type Database, type DatabaseHandle } from './client.js';
export { dropDatabase, ensureDatabase, migrateDatabase, migrationsFolder } from './migrate.js';
export {
  type DayPartition,
  dayOf,
  ensureDayPartitions,
  listDayPartitions,
  nextDay,
  PARTITIONED_TABLES,
  type PartitionedTable,
  partitionName,
  videoDay,
} from './partitions.js';
export { type CameraNight, CameraRepository } from './repositories/camera-repository.js';
export {
  decodeEmbedding,
  EMBEDDING_DTYPE_BYTES,
  type EmbeddingDtype,
  encodeEmbedding,
  fromBytes,
  toBytes,
} from './repositories/embedding-bytes.js';
export {
  type ClipSeriesRow,
  EvaluationRepository,
  type EvaluationRunRow,
  type EvaluationVideoRow,
  type EventSpanRow,
} from './repositories/evaluation-repository.js';
export {
  FrameEmbeddingRepository,
  type FrameEmbeddingStorage,
  type FrameVector,
} from './repositories/frame-embedding-repository.js';
export {
  type CameraReviewSpan,
  type CameraVideo,
  type CameraVideoQuery,
  NORMAL_SOURCES,
  type NormalFeatureInput,
  type NormalFeatureRow,
  NormalMemoryRepository,
  type NormalSource,
  type VideoClipScores,
} from './repositories/normal-memory-repository.js';
export {
  type DroppedPartition,
  type PartitionDrops,
  RetentionRepository,
} from './repositories/retention-repository.js';
export {
  type EventReviewSummary,
  REVIEW_VERDICTS,
  type ReattachEvent,
  type ReattachReview,
  type ReviewInput,
  type ReviewListQuery,
  ReviewRepository,
  type ReviewSpan,
  type ReviewSpanQuery,
  type ReviewVerdict,
  reattachReviews,
  type VerdictFilter,
} from './repositories/review-repository.js';
export {
  type ClipScoreInput,
  type EventInput,
  type EventQuery,
  type EventRow,
  ScoringRepository,
  type ScoringRunInput,
} from './repositories/scoring-repository.js';
export {
  type SearchableVideo,
  type SearchEvent,
  type SearchExclusions,
  SearchRepository,
  type SearchScope,
} from './repositories/search-repository.js';
export { TextEmbeddingRepository } from './repositories/text-embedding-repository.js';
export {
  type RecentThroughput,
  type VideoListQuery,
  type VideoListRow,
  type VideoPageRow,
  type VideoProbe,
  VideoRepository,
} from './repositories/video-repository.js';
export * from './schema.js';

import type { Database } from './client.js';
import { CameraRepository } from './repositories/camera-repository.js';
import { EvaluationRepository } from './repositories/evaluation-repository.js';
import { FrameEmbeddingRepository } from './repositories/frame-embedding-repository.js';
import { NormalMemoryRepository } from './repositories/normal-memory-repository.js';
import { RetentionRepository } from './repositories/retention-repository.js';
import { ReviewRepository } from './repositories/review-repository.js';
import { ScoringRepository } from './repositories/scoring-repository.js';
import { SearchRepository } from './repositories/search-repository.js';
import { TextEmbeddingRepository } from './repositories/text-embedding-repository.js';
import { VideoRepository } from './repositories/video-repository.js';

export interface Repositories {
  cameras: CameraRepository;
  videos: VideoRepository;
  frameEmbeddings: FrameEmbeddingRepository;
  textEmbeddings: TextEmbeddingRepository;
  scoring: ScoringRepository;
  retention: RetentionRepository;
  normalMemory: NormalMemoryRepository;
  reviews: ReviewRepository;
  evaluation: EvaluationRepository;
  search: SearchRepository;
}

export function createRepositories(db: Database): Repositories {
  return {
    cameras: new CameraRepository(db),
    videos: new VideoRepository(db),
    frameEmbeddings: new FrameEmbeddingRepository(db),
    textEmbeddings: new TextEmbeddingRepository(db),
    scoring: new ScoringRepository(db),
    retention: new RetentionRepository(db),
    normalMemory: new NormalMemoryRepository(db),
    reviews: new ReviewRepository(db),
    evaluation: new EvaluationRepository(db),
    search: new SearchRepository(db),
  };
}
export { isDatabaseUnavailable } from './unavailable.js';
