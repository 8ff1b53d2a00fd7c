-- intake as the card management system Thales D1 calls: each card's Seccos PIN change counter, which D1
-- reads (GET .../pin/changeCounter) to compute a 3DES_SECCOS block and which a push must carry. A card
-- without a row is at 0. `correlation_id` is the x-correlation-id of the push that last moved the
-- counter, so that D1's retry of that push is recognised rather than refused as stale.

-- CreateTable
CREATE TABLE "d1_pin_change_counters" (
    "issuer_id" TEXT NOT NULL,
    "card_id" TEXT NOT NULL,
    "change_counter" BIGINT NOT NULL,
    "correlation_id" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "d1_pin_change_counters_pkey" PRIMARY KEY ("issuer_id","card_id")
);
