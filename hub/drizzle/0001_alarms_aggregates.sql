CREATE TABLE "agg_hourly_cell" (
	"cell" text NOT NULL,
	"resolution" smallint NOT NULL,
	"hour" timestamp (6) with time zone NOT NULL,
	"device_id" text NOT NULL,
	"class" text NOT NULL,
	"events" integer NOT NULL,
	"confidence_sum" numeric NOT NULL,
	"confidence_max" real NOT NULL,
	CONSTRAINT "agg_hourly_cell_pkey" PRIMARY KEY("cell","resolution","hour","device_id","class")
);
--> statement-breakpoint
CREATE TABLE "agg_hourly_device" (
	"hour" timestamp (6) with time zone NOT NULL,
	"device_id" text NOT NULL,
	"class" text NOT NULL,
	"events" integer NOT NULL,
	"confidence_sum" numeric NOT NULL,
	"confidence_max" real NOT NULL,
	CONSTRAINT "agg_hourly_device_pkey" PRIMARY KEY("hour","device_id","class")
);
--> statement-breakpoint
CREATE TABLE "alarms" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"source" text NOT NULL,
	"device_id" text,
	"severity" text NOT NULL,
	"status" text DEFAULT 'active_unack' NOT NULL,
	"message" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"count" integer DEFAULT 1 NOT NULL,
	"acked_at" timestamp (6) with time zone,
	"acked_by" text,
	"cleared_at" timestamp (6) with time zone,
	"cleared_by" text,
	CONSTRAINT "alarms_type_check" CHECK (type in ('severe_damage', 'hotspot', 'device_offline', 'outbox_backlog', 'sensor_fault')),
	CONSTRAINT "alarms_severity_check" CHECK (severity in ('critical', 'major', 'minor', 'warning')),
	CONSTRAINT "alarms_status_check" CHECK (status in ('active_unack', 'active_ack', 'cleared'))
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"scope" text NOT NULL,
	"token_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp (6) with time zone,
	"revoked_at" timestamp (6) with time zone,
	CONSTRAINT "api_tokens_name_key" UNIQUE("name"),
	CONSTRAINT "api_tokens_token_hash_key" UNIQUE("token_hash"),
	CONSTRAINT "api_tokens_scope_check" CHECK (scope in ('read', 'ack', 'admin'))
);
--> statement-breakpoint
ALTER TABLE "detections" ADD COLUMN "h3_cell" text;--> statement-breakpoint
ALTER TABLE "device_status" ADD COLUMN "sensor_fault_since" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "agg_hourly_cell_hour_brin" ON "agg_hourly_cell" USING brin ("hour");--> statement-breakpoint
CREATE UNIQUE INDEX "alarms_open_type_source_key" ON "alarms" USING btree ("type","source") WHERE status <> 'cleared';--> statement-breakpoint
CREATE INDEX "alarms_type_source_created_idx" ON "alarms" USING btree ("type","source","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "alarms_created_idx" ON "alarms" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "alarms_status_severity_created_idx" ON "alarms" USING btree ("status","severity","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "alarms_device_created_idx" ON "alarms" USING btree ("device_id","created_at" DESC NULLS LAST);