-- The service whose signature the event's Kafka message carried (intake, or the vendor's worker), as
-- audit verified it before storing the event: an event that was not signed by its rightful publisher
-- is dead-lettered and never stored, so no one else can take an event id first. Null for events
-- stored before messages were signed. Not covered by the hash chain (audit_event_hash and
-- tools/audit-chain.ts hash the same fields as before).

-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN "signer" TEXT;
