ALTER TABLE "videos" ADD COLUMN "current_run_id" uuid;--> statement-breakpoint
ALTER TABLE "videos" ADD CONSTRAINT "videos_current_run_id_scoring_runs_id_fk" FOREIGN KEY ("current_run_id") REFERENCES "public"."scoring_runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "videos_created_idx" ON "videos" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "videos_finished_idx" ON "videos" USING btree ("finished_at");--> statement-breakpoint
-- Backfill: each video's latest scoring run becomes its current one.
UPDATE "videos" AS v SET "current_run_id" = (
  SELECT r."id" FROM "scoring_runs" AS r WHERE r."video_id" = v."id" ORDER BY r."created_at" DESC LIMIT 1
);
