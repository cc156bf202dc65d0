ALTER TABLE "cameras" ADD COLUMN "threshold" real;--> statement-breakpoint
ALTER TABLE "cameras" ADD COLUMN "scoring_mode" text;