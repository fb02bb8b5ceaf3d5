CREATE TABLE "detections" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" uuid NOT NULL,
	"device_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"ts" timestamp(6) with time zone NOT NULL,
	"clock" text NOT NULL,
	"lat" double precision NOT NULL,
	"lon" double precision NOT NULL,
	"accuracy_m" real,
	"speed_kmh" real,
	"heading_deg" real,
	"class" text NOT NULL,
	"confidence" real NOT NULL,
	"hits" integer NOT NULL,
	"bbox" jsonb,
	"frame_w" integer,
	"frame_h" integer,
	"model" text,
	"batch_id" uuid NOT NULL,
	"received_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "detections_event_id_key" UNIQUE("event_id")
);
--> statement-breakpoint
CREATE TABLE "device_status" (
	"device_id" text PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"payload" jsonb NOT NULL,
	"updated_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"device_id" text PRIMARY KEY NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp(6) with time zone
);
--> statement-breakpoint
CREATE TABLE "quarantine" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"batch_id" text,
	"seq" bigint,
	"event_id" text,
	"reason" text NOT NULL,
	"payload" text NOT NULL,
	"received_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "detections_ts_id_idx" ON "detections" USING btree ("ts" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "detections_device_seq_idx" ON "detections" USING btree ("device_id","seq");--> statement-breakpoint
CREATE INDEX "quarantine_received_at_idx" ON "quarantine" USING btree ("received_at" DESC NULLS LAST);