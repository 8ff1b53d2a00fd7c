-- The console's vendor health reads the outcome events of the last minutes (type = ANY(outcome types)
-- AND time >= now - window): without this index that is a scan of the whole audit trail on every
-- refresh. By type first, so only the outcome types' recent entries are read, whatever the share of
-- accepted and other events. An index changes no row: the hash chain and the grants stay as they are.

-- CreateIndex
CREATE INDEX "audit_events_type_time_idx" ON "audit_events"("type", "time");
