-- The trace each event travelled in (the trace id of its Kafka message's traceparent), so an operator
-- can go from a request's timeline in the console to its trace. Null when the producer did not trace.
-- Not covered by the hash chain: it says where to look for diagnostics, not what happened to a card;
-- audit_event_hash and tools/audit-chain.ts hash the same fields as before.

-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN "trace_id" TEXT;
