-- The vendor_commands gauge counted every command of the vendor by state on every scrape: a read of
-- the ledger's whole history, longer with every command ever run. It now counts the commands not yet
-- ended, through a partial index that holds only those (a command enters it when claimed and leaves it
-- when it ends), which also serves the sweep for overdue vendor events: the index of the commands
-- awaiting one is folded into it. Building an index blocks writes to vendor_commands until it is
-- built: apply it while the workers are stopped, or build it first with CREATE INDEX CONCURRENTLY
-- under the same name.

-- CreateIndex
CREATE INDEX IF NOT EXISTS "vendor_commands_in_progress_idx" ON "vendor_commands"("vendor", "state", "updated_at") WHERE "state" IN ('CALLING', 'RETRYING', 'AWAITING_VENDOR_EVENT');

-- DropIndex
DROP INDEX IF EXISTS "vendor_commands_awaiting_vendor_event_idx";
