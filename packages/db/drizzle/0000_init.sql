CREATE TYPE "public"."embedding_dtype" AS ENUM('float16', 'float32');--> statement-breakpoint
CREATE TYPE "public"."video_status" AS ENUM('queued', 'ingesting', 'embedding', 'aggregating', 'done', 'failed');--> statement-breakpoint
CREATE TABLE "anomaly_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "anomaly_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"video_id" uuid NOT NULL,
	"camera_id" integer,
	"scoring_run_id" uuid NOT NULL,
	"start_ms" integer NOT NULL,
	"end_ms" integer NOT NULL,
	"peak_ms" integer NOT NULL,
	"start_at" timestamp with time zone,
	"end_at" timestamp with time zone,
	"peak_score" real NOT NULL,
	"label" text NOT NULL,
	"thumbnail_path" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cameras" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "cameras_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cameras_name_unique" UNIQUE("name")
);
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
	CONSTRAINT "clip_scores_scoring_run_id_clip_index_pk" PRIMARY KEY("scoring_run_id","clip_index")
);
--> statement-breakpoint
CREATE TABLE "frame_embeddings" (
	"video_id" uuid NOT NULL,
	"frame_index" integer NOT NULL,
	"model" text NOT NULL,
	"pts_ms" integer NOT NULL,
	"dtype" "embedding_dtype" DEFAULT 'float32' NOT NULL,
	"embedding" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "frame_embeddings_video_id_model_frame_index_pk" PRIMARY KEY("video_id","model","frame_index")
);
--> statement-breakpoint
CREATE TABLE "scoring_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"video_id" uuid NOT NULL,
	"model" text NOT NULL,
	"prompt_set" text NOT NULL,
	"aggregator" text NOT NULL,
	"params" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "text_embeddings" (
	"model" text NOT NULL,
	"prompt" text NOT NULL,
	"dtype" "embedding_dtype" DEFAULT 'float32' NOT NULL,
	"embedding" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "text_embeddings_model_prompt_pk" PRIMARY KEY("model","prompt")
);
--> statement-breakpoint
CREATE TABLE "videos" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"camera_id" integer,
	"source_uri" text NOT NULL,
	"sha256" text NOT NULL,
	"bytes" bigint NOT NULL,
	"duration_ms" integer,
	"fps" double precision,
	"width" integer,
	"height" integer,
	"codec" text,
	"recorded_at" timestamp with time zone,
	"status" "video_status" DEFAULT 'queued' NOT NULL,
	"error" text,
	"model" text NOT NULL,
	"pipeline_config" jsonb NOT NULL,
	"config_hash" text NOT NULL,
	"frames_decoded" integer DEFAULT 0 NOT NULL,
	"segments_written" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ingest_started_at" timestamp with time zone,
	"ingest_finished_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "anomaly_events" ADD CONSTRAINT "anomaly_events_video_id_videos_id_fk" FOREIGN KEY ("video_id") REFERENCES "public"."videos"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "anomaly_events" ADD CONSTRAINT "anomaly_events_camera_id_cameras_id_fk" FOREIGN KEY ("camera_id") REFERENCES "public"."cameras"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "anomaly_events" ADD CONSTRAINT "anomaly_events_scoring_run_id_scoring_runs_id_fk" FOREIGN KEY ("scoring_run_id") REFERENCES "public"."scoring_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clip_scores" ADD CONSTRAINT "clip_scores_scoring_run_id_scoring_runs_id_fk" FOREIGN KEY ("scoring_run_id") REFERENCES "public"."scoring_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clip_scores" ADD CONSTRAINT "clip_scores_video_id_videos_id_fk" FOREIGN KEY ("video_id") REFERENCES "public"."videos"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "frame_embeddings" ADD CONSTRAINT "frame_embeddings_video_id_videos_id_fk" FOREIGN KEY ("video_id") REFERENCES "public"."videos"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scoring_runs" ADD CONSTRAINT "scoring_runs_video_id_videos_id_fk" FOREIGN KEY ("video_id") REFERENCES "public"."videos"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "videos" ADD CONSTRAINT "videos_camera_id_cameras_id_fk" FOREIGN KEY ("camera_id") REFERENCES "public"."cameras"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "anomaly_events_camera_start_idx" ON "anomaly_events" USING btree ("camera_id","start_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "anomaly_events_start_idx" ON "anomaly_events" USING btree ("start_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "anomaly_events_score_idx" ON "anomaly_events" USING btree ("peak_score" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "anomaly_events_run_idx" ON "anomaly_events" USING btree ("scoring_run_id");--> statement-breakpoint
CREATE INDEX "anomaly_events_video_idx" ON "anomaly_events" USING btree ("video_id");--> statement-breakpoint
CREATE INDEX "clip_scores_video_idx" ON "clip_scores" USING btree ("video_id");--> statement-breakpoint
CREATE INDEX "scoring_runs_video_created_idx" ON "scoring_runs" USING btree ("video_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "videos_sha256_config_uq" ON "videos" USING btree ("sha256","config_hash");--> statement-breakpoint
CREATE INDEX "videos_camera_recorded_idx" ON "videos" USING btree ("camera_id","recorded_at");--> statement-breakpoint
CREATE INDEX "videos_status_idx" ON "videos" USING btree ("status","created_at");