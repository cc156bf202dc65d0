DROP INDEX "anomaly_events_camera_start_idx";--> statement-breakpoint
DROP INDEX "anomaly_events_start_idx";--> statement-breakpoint
DROP INDEX "anomaly_events_score_idx";--> statement-breakpoint
ALTER TABLE "anomaly_events" ADD COLUMN "current" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- Backfill: the events of each video's current run are current.
UPDATE "anomaly_events" AS e SET "current" = true FROM "videos" AS v
WHERE v."id" = e."video_id" AND v."current_run_id" = e."scoring_run_id";--> statement-breakpoint
CREATE INDEX "anomaly_events_camera_start_idx" ON "anomaly_events" USING btree ("camera_id","start_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "anomaly_events"."current";--> statement-breakpoint
CREATE INDEX "anomaly_events_start_idx" ON "anomaly_events" USING btree ("start_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "anomaly_events"."current";--> statement-breakpoint
CREATE INDEX "anomaly_events_score_idx" ON "anomaly_events" USING btree ("peak_score" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "anomaly_events"."current";