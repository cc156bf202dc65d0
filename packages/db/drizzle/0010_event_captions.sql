ALTER TABLE "anomaly_events" ADD COLUMN "caption" text;--> statement-breakpoint
ALTER TABLE "anomaly_events" ADD COLUMN "caption_model" text;--> statement-breakpoint
ALTER TABLE "anomaly_events" ADD COLUMN "captioned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "anomaly_events" ADD COLUMN "caption_words" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', coalesce(caption, ''))) STORED;--> statement-breakpoint
CREATE INDEX "anomaly_events_caption_words_idx" ON "anomaly_events" USING gin ("caption_words");--> statement-breakpoint
CREATE INDEX "anomaly_events_captioned_idx" ON "anomaly_events" USING btree ("captioned_at");