-- A card's Seccos change counter counts the PIN changes its processor completed, not the pushes
-- intake accepted: D1 computes the PRW and MAC of the next change with it, so a change the processor
-- failed must not have used it. One push per card is in flight at a time: `in_flight_command_id` is
-- the command of the push whose outcome is awaited (its success moves the counter on, its failure
-- frees the card), `in_flight_since` when it was claimed. The x-correlation-id of the last push is no
-- longer needed: a retry of a recorded push is recognised by its idempotency key before any claim.

-- AlterTable
ALTER TABLE "d1_pin_change_counters" DROP COLUMN "correlation_id",
ADD COLUMN     "in_flight_command_id" UUID,
ADD COLUMN     "in_flight_since" TIMESTAMPTZ(3);

-- CreateIndex
CREATE UNIQUE INDEX "d1_pin_change_counters_in_flight_command_id_key" ON "d1_pin_change_counters"("in_flight_command_id");
