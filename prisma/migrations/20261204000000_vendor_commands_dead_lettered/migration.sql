-- Remembers that a command's dead letter was parked, so that a redelivery after a failed offset
-- commit does not park the same command twice; and indexes the worker's periodic sweep for vendor
-- events that never came and outcomes whose publication a crash cut short.

-- AlterTable
ALTER TABLE "vendor_commands" ADD COLUMN "dead_lettered_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "vendor_commands_vendor_state_updated_at_idx" ON "vendor_commands"("vendor", "state", "updated_at");
