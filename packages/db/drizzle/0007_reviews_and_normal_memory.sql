CREATE TYPE "public"."review_verdict" AS ENUM('true', 'false');--> statement-breakpoint
CREATE TABLE "camera_normal_features" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "camera_normal_features_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"camera_id" integer NOT NULL,
	"model" text NOT NULL,
	"video_id" uuid,
	"clip_index" integer NOT NULL,
	"source" text NOT NULL,
	"dtype" "embedding_dtype" DEFAULT 'float32' NOT NULL,
	"feature" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_reviews" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "event_reviews_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"video_id" uuid NOT NULL,
	"event_id" bigint,
	"start_ms" integer NOT NULL,
	"end_ms" integer NOT NULL,
	"label" text NOT NULL,
	"verdict" "review_verdict" NOT NULL,
	"note" text,
	"reviewed_by" text NOT NULL,
	"reviewed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "camera_normal_features" ADD CONSTRAINT "camera_normal_features_camera_id_cameras_id_fk" FOREIGN KEY ("camera_id") REFERENCES "public"."cameras"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "camera_normal_features" ADD CONSTRAINT "camera_normal_features_video_id_videos_id_fk" FOREIGN KEY ("video_id") REFERENCES "public"."videos"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_reviews" ADD CONSTRAINT "event_reviews_video_id_videos_id_fk" FOREIGN KEY ("video_id") REFERENCES "public"."videos"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_reviews" ADD CONSTRAINT "event_reviews_event_id_anomaly_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."anomaly_events"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "camera_normal_features_camera_idx" ON "camera_normal_features" USING btree ("camera_id","model","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "camera_normal_features_clip_uq" ON "camera_normal_features" USING btree ("camera_id","model","video_id","clip_index");--> statement-breakpoint
CREATE UNIQUE INDEX "event_reviews_event_uq" ON "event_reviews" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "event_reviews_video_idx" ON "event_reviews" USING btree ("video_id","start_ms");--> statement-breakpoint
CREATE INDEX "event_reviews_verdict_idx" ON "event_reviews" USING btree ("verdict","reviewed_at" DESC NULLS LAST);