-- Free space in every page, so that an update of non-indexed columns stays on its page as a HOT update
-- and writes no index: an alarm's re-fire (content, last_seen_at, count; docs/ALARMS.md) and a rollup
-- row's merge (events, sums, the daily vehicle bitmap; docs/AGGREGATES.md).
ALTER TABLE "alarms" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "agg_daily_cell" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "agg_hourly_cell" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "agg_hourly_device" SET (fillfactor = 70);
--> statement-breakpoint
-- alarms.latest under concurrent writers of one (type, source): the two-pass refresh of 0002 relied on
-- concurrent writers meeting on a row they both unmark, and two writers that saw different latest rows
-- (or a key's very first rows, none) could each commit their own row as latest. Now every writer of a key
-- takes a transaction-scoped advisory lock on it (the two-int key space, class 7461: apart from the
-- migrations' bigint lock) before looking: the next writer waits for the commit, and its next query sees
-- the committed rows. The hub's own inserts never contend on it (open alarms of a key are serialised by
-- alarms_open_type_source_key already); keys are locked in (type, source) order.
CREATE OR REPLACE FUNCTION "alarms_latest_refresh"(k_type text, k_source text) RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  newest bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7461, hashtext(k_type || '/' || k_source));
  SELECT "id" INTO newest FROM "alarms" WHERE "type" = k_type AND "source" = k_source
    ORDER BY "created_at" DESC NULLS LAST, "id" DESC NULLS LAST LIMIT 1;
  UPDATE "alarms" SET "latest" = false WHERE "type" = k_type AND "source" = k_source AND "latest" AND "id" IS DISTINCT FROM newest;
  UPDATE "alarms" SET "latest" = true WHERE "id" = newest AND NOT "latest";
END
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "alarms_latest_after_insert"() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  k record;
BEGIN
  FOR k IN SELECT n."type", n."source", min(n."id") AS low, count(*) AS rows FROM new_rows n GROUP BY 1, 2 ORDER BY 1, 2 LOOP
    PERFORM pg_advisory_xact_lock(7461, hashtext(k."type" || '/' || k."source"));
    IF k.rows > 1 OR EXISTS (SELECT 1 FROM "alarms" a WHERE a."type" = k."type" AND a."source" = k."source" AND a."latest" AND a."id" <> k.low) THEN
      PERFORM "alarms_latest_refresh"(k."type", k."source");
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
