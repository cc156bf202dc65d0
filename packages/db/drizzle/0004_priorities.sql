ALTER TABLE "cameras" ADD COLUMN "weight" integer DEFAULT 100 NOT NULL;--> statement-breakpoint
ALTER TABLE "videos" ADD COLUMN "priority" integer;--> statement-breakpoint
ALTER TABLE "videos" ADD COLUMN "urgent" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "videos_source_idx" ON "videos" USING btree ("source_uri");