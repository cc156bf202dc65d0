-- Hand-written: drizzle cannot express PARTITION BY. frame_embeddings and clip_scores become
-- range-partitioned by "recorded_day" (the UTC day of the video's coalesce(recorded_at, created_at)),
-- one partition per day, e.g. frame_embeddings_d20261130, so that the daily retention run drops the
-- days whose videos have all expired instead of deleting their rows. Existing rows are moved.
-- meta/0009_snapshot.json holds what drizzle sees of the new tables (columns, primary keys, checks,
-- foreign keys), so `drizzle-kit generate` finds nothing to do.
--
-- vad_ensure_day_partition(parent, day) creates a day's partition when it is missing and returns
-- it. The repositories call it (in a statement of its own, never inside a longer transaction: it
-- holds its locks until commit) before they write a day they have not seen. Safe when many
-- processes call it at once: they take turns on an advisory lock, and the later ones find the
-- partition there. The partition is created as a plain table and then ATTACHed, which locks the
-- parent table in SHARE UPDATE EXCLUSIVE mode only: readers and writers of other days go on
-- (CREATE TABLE … PARTITION OF would lock it ACCESS EXCLUSIVE). Cloning the foreign keys locks
-- `videos` in SHARE ROW EXCLUSIVE mode for that moment.
-- There is no DEFAULT partition: a write to a day without its partition fails loudly
-- (23514, "no partition of relation … found for row"), and the repositories create it and retry.
CREATE FUNCTION "vad_ensure_day_partition"("parent" regclass, "day" date) RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
  base text;
  ns text;
  part text;
  existing regclass;
BEGIN
  IF "day" IS NULL OR NOT isfinite("day") THEN
    RAISE EXCEPTION 'vad_ensure_day_partition: % is not a day', "day";
  END IF;
  SELECT c.relname, n.nspname INTO base, ns
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = "parent" AND c.relkind = 'p';
  IF base IS NULL THEN
    RAISE EXCEPTION 'vad_ensure_day_partition: % is not a partitioned table', "parent";
  END IF;
  part := base || '_d' || to_char("day", 'YYYYMMDD');
  PERFORM pg_advisory_xact_lock(7461828, hashtext(ns || '.' || part));
  existing := to_regclass(format('%I.%I', ns, part));
  IF existing IS NOT NULL THEN
    IF EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = existing AND inhparent = "parent") THEN
      RETURN existing;
    END IF;
  ELSE
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', ns, part, "parent");
  END IF;
  EXECUTE format(
    'ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
    "parent", ns, part, "day", "day" + 1
  );
  RETURN format('%I.%I', ns, part)::regclass;
END
$$;--> statement-breakpoint
ALTER TABLE "frame_embeddings" RENAME TO "frame_embeddings_0008";--> statement-breakpoint
ALTER TABLE "clip_scores" RENAME TO "clip_scores_0008";--> statement-breakpoint
DROP INDEX "clip_scores_video_idx";--> statement-breakpoint
CREATE TABLE "frame_embeddings" (
	"video_id" uuid NOT NULL,
	"frame_index" integer NOT NULL,
	"model" text NOT NULL,
	"pts_ms" integer NOT NULL,
	"dtype" "embedding_dtype" DEFAULT 'float32' NOT NULL,
	"embedding" "bytea",
	"same_as_frame" integer,
	"recorded_day" date NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "frame_embeddings_vector_or_reuse_ck" CHECK (("embedding" IS NULL) <> ("same_as_frame" IS NULL)),
	CONSTRAINT "frame_embeddings_reuse_earlier_ck" CHECK ("same_as_frame" < "frame_index")
) PARTITION BY RANGE ("recorded_day");
--> statement-breakpoint
CREATE TABLE "clip_scores" (
	"scoring_run_id" uuid NOT NULL,
	"clip_index" integer NOT NULL,
	"video_id" uuid NOT NULL,
	"start_ms" integer NOT NULL,
	"end_ms" integer NOT NULL,
	"valid_frames" integer NOT NULL,
	"anomaly_score" real NOT NULL,
	"label" text NOT NULL,
	"probabilities" jsonb NOT NULL,
	"recorded_day" date NOT NULL
) PARTITION BY RANGE ("recorded_day");
--> statement-breakpoint
-- One partition per day the existing rows need.
SELECT "vad_ensure_day_partition"('frame_embeddings', d) FROM (
  SELECT DISTINCT (coalesce(v."recorded_at", v."created_at") AT TIME ZONE 'UTC')::date AS d
  FROM "videos" v WHERE EXISTS (SELECT 1 FROM "frame_embeddings_0008" f WHERE f."video_id" = v."id")
) days;--> statement-breakpoint
SELECT "vad_ensure_day_partition"('clip_scores', d) FROM (
  SELECT DISTINCT (coalesce(v."recorded_at", v."created_at") AT TIME ZONE 'UTC')::date AS d
  FROM "videos" v WHERE EXISTS (SELECT 1 FROM "clip_scores_0008" c WHERE c."video_id" = v."id")
) days;--> statement-breakpoint
INSERT INTO "frame_embeddings" ("video_id", "frame_index", "model", "pts_ms", "dtype", "embedding", "recorded_day", "created_at")
SELECT f."video_id", f."frame_index", f."model", f."pts_ms", f."dtype", f."embedding",
       (coalesce(v."recorded_at", v."created_at") AT TIME ZONE 'UTC')::date, f."created_at"
FROM "frame_embeddings_0008" f JOIN "videos" v ON v."id" = f."video_id";--> statement-breakpoint
INSERT INTO "clip_scores" ("scoring_run_id", "clip_index", "video_id", "start_ms", "end_ms", "valid_frames", "anomaly_score", "label", "probabilities", "recorded_day")
SELECT c."scoring_run_id", c."clip_index", c."video_id", c."start_ms", c."end_ms", c."valid_frames", c."anomaly_score", c."label", c."probabilities",
       (coalesce(v."recorded_at", v."created_at") AT TIME ZONE 'UTC')::date
FROM "clip_scores_0008" c JOIN "videos" v ON v."id" = c."video_id";--> statement-breakpoint
DROP TABLE "frame_embeddings_0008";--> statement-breakpoint
DROP TABLE "clip_scores_0008";--> statement-breakpoint
-- Keys, indexes and foreign keys after the copy (built once per partition, not row by row).
ALTER TABLE "frame_embeddings" ADD CONSTRAINT "frame_embeddings_video_id_model_frame_index_recorded_day_pk" PRIMARY KEY("video_id","model","frame_index","recorded_day");--> statement-breakpoint
ALTER TABLE "clip_scores" ADD CONSTRAINT "clip_scores_scoring_run_id_clip_index_recorded_day_pk" PRIMARY KEY("scoring_run_id","clip_index","recorded_day");--> statement-breakpoint
CREATE INDEX "clip_scores_video_idx" ON "clip_scores" USING btree ("video_id");--> statement-breakpoint
ALTER TABLE "frame_embeddings" ADD CONSTRAINT "frame_embeddings_video_id_videos_id_fk" FOREIGN KEY ("video_id") REFERENCES "public"."videos"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clip_scores" ADD CONSTRAINT "clip_scores_scoring_run_id_scoring_runs_id_fk" FOREIGN KEY ("scoring_run_id") REFERENCES "public"."scoring_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clip_scores" ADD CONSTRAINT "clip_scores_video_id_videos_id_fk" FOREIGN KEY ("video_id") REFERENCES "public"."videos"("id") ON DELETE cascade ON UPDATE no action;
