-- The worker's sweeps (every 7.5 s by default) look for commands awaiting their vendor's event past
-- its timeout, and for outcomes recorded but not published: through (vendor, state, updated_at), the
-- second read every finished command of the vendor older than the cutoff, i.e. the ledger's whole
-- history, on every sweep. Partial indexes hold only the commands a sweep may act on, so a sweep
-- reads what it finds. Every ledger update also stops inserting into an index of every command.
-- Building an index blocks writes to vendor_commands until it is built: apply it while the workers
-- are stopped, or build the indexes first with CREATE INDEX CONCURRENTLY under the same names.

-- CreateIndex
CREATE INDEX IF NOT EXISTS "vendor_commands_awaiting_vendor_event_idx" ON "vendor_commands"("vendor", "updated_at") WHERE "state" = 'AWAITING_VENDOR_EVENT';

-- CreateIndex
CREATE INDEX IF NOT EXISTS "vendor_commands_unpublished_outcome_idx" ON "vendor_commands"("vendor", "updated_at") WHERE "outcome_published_at" IS NULL AND "outcome_event" IS NOT NULL;

-- DropIndex
DROP INDEX "vendor_commands_vendor_state_updated_at_idx";
