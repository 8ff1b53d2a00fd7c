-- Tamper evidence for audit_events. The append-only trigger stops honest mistakes, not a holder of the
-- owner role, who can disable it. Two changes close that gap:
--  1. The audit service writes as pinflow_audit_writer, which may only INSERT and SELECT (not own the
--     table), so it can neither change rows nor switch the triggers off; migrations still run as the owner.
--  2. Every row carries `hash`, a SHA-256 over its fields and `prev_hash`, the hash of the previous event
--     of the same card. `npm run audit -- verify` recomputes the chains outside the database and reports
--     a row that was altered, deleted or inserted after the fact.
--
-- Chained per card, not globally: a card's events all arrive on one partition, in order, so per-card
-- chains need no lock shared by every batch (partitions are stored concurrently) and the previous hash
-- is one index probe on audit_events(card_id, sequence DESC). The trigger computes the links inside the
-- consumer's single INSERT … SELECT unnest(…) per batch: no round trip per event.

-- Hex SHA-256; the first event of a card links to 64 zeros.
ALTER TABLE "audit_events" ADD COLUMN "prev_hash" TEXT,
ADD COLUMN "hash" TEXT;

-- The canonical form hashed: each field length-prefixed ("<bytes>:<value>", "-" for NULL) so no two
-- different rows serialise alike; times as epoch milliseconds, data as jsonb's own normalised text.
-- tools/audit-chain.ts recomputes exactly this in Node, trusting no function stored in the database.
CREATE FUNCTION "audit_event_hash"("event" "audit_events") RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(
        (SELECT string_agg(coalesce(octet_length(convert_to(field, 'UTF8')) || ':' || field, '-'), '' ORDER BY position)
         FROM unnest(ARRAY[
             "event"."sequence"::text,
             "event"."prev_hash",
             "event"."event_id",
             "event"."type",
             "event"."source",
             "event"."card_id",
             "event"."request_id",
             "event"."command_id",
             ((extract(epoch FROM "event"."time") * 1000)::bigint)::text,
             "event"."data"::text,
             ((extract(epoch FROM "event"."recorded_at") * 1000)::bigint)::text
         ]) WITH ORDINALITY AS fields(field, position)),
        'UTF8')), 'hex')
$$;

-- Existing rows: the chain is backfilled here, in sequence order per card, so history from before this
-- migration is covered too (it is only as trustworthy as the table was until now). The owner lifts the
-- append-only trigger for these UPDATEs alone; the whole script is one transaction.
ALTER TABLE "audit_events" DISABLE TRIGGER "audit_events_append_only";
DO $$
DECLARE
    "row" "audit_events";
    "previous_card" TEXT;
    "previous_hash" TEXT;
BEGIN
    FOR "row" IN SELECT * FROM "audit_events" ORDER BY "card_id", "sequence" LOOP
        IF "previous_card" IS DISTINCT FROM "row"."card_id" THEN
            "previous_hash" := repeat('0', 64);
            "previous_card" := "row"."card_id";
        END IF;
        "row"."prev_hash" := "previous_hash";
        "previous_hash" := "audit_event_hash"("row");
        UPDATE "audit_events" SET "prev_hash" = "row"."prev_hash", "hash" = "previous_hash" WHERE "sequence" = "row"."sequence";
    END LOOP;
END;
$$;
ALTER TABLE "audit_events" ENABLE TRIGGER "audit_events_append_only";

ALTER TABLE "audit_events" ALTER COLUMN "prev_hash" SET NOT NULL,
ALTER COLUMN "hash" SET NOT NULL;

-- Links each new row to its card's newest one. The per-card transaction lock (key space 0x61756474,
-- "audt", so it meets no other advisory lock) makes a second transaction writing the same card (two
-- consumers during a rebalance) wait for the first to commit, so a chain never forks. The sequence is
-- drawn again under that lock: the column default was drawn before it, so without this a card's
-- sequence order could differ from its chain order. Whatever a writer passes for sequence, prev_hash
-- or hash is overwritten. (Fires for rows ON CONFLICT then skips too; those are never stored.)
CREATE FUNCTION "audit_events_chain"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1635083380, hashtext(NEW."card_id"));
    NEW."sequence" := nextval('audit_events_sequence_seq');
    NEW."prev_hash" := coalesce(
        (SELECT "hash" FROM "audit_events" WHERE "card_id" = NEW."card_id" ORDER BY "sequence" DESC LIMIT 1),
        repeat('0', 64));
    NEW."hash" := "audit_event_hash"(NEW);
    RETURN NEW;
END;
$$;

CREATE TRIGGER "audit_events_chain"
    BEFORE INSERT ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_events_chain"();

-- The audit service's role. Roles belong to the whole server, so it may exist already (another
-- database, or made by a DBA: then the migrating role needs no CREATEROLE).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pinflow_audit_writer') THEN
        CREATE ROLE "pinflow_audit_writer" NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created concurrently by a migration of another database
END;
$$;
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO "pinflow_audit_writer"', current_schema());
    -- So the login that migrates (and, until it has a login of its own, runs the audit service) may SET ROLE to it.
    IF NOT pg_has_role(current_user, 'pinflow_audit_writer', 'MEMBER') THEN
        EXECUTE 'GRANT "pinflow_audit_writer" TO ' || quote_ident(current_user);
    END IF;
END;
$$;
GRANT SELECT, INSERT ON "audit_events" TO "pinflow_audit_writer";
GRANT USAGE ON SEQUENCE "audit_events_sequence_seq" TO "pinflow_audit_writer";
