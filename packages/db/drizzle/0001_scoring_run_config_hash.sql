ALTER TABLE "scoring_runs" ADD COLUMN "config_hash" text NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "scoring_runs_video_config_uq" ON "scoring_runs" USING btree ("video_id","config_hash");