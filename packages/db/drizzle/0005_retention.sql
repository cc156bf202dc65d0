ALTER TABLE "videos" ADD COLUMN "embeddings_removed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "videos" ADD COLUMN "source_removed_at" timestamp with time zone;