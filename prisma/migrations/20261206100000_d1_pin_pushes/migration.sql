-- A D1 push's success must move its card's Seccos change counter however it arrives: also when the push
-- failed first (its card freed, the counter left) and an operator replayed its dead letter, which then
-- succeeded. Such a success no longer finds its push in flight, so each push keeps the counter its
-- block was computed with, recorded with the claim that checked it (one statement); a success then moves
-- the counter to that value + 1, only if the card is still at that value (compare-and-set).
-- `d1_pin_push_successes` keeps each push's first success, so a success delivered again, or after an
-- operator's settlement, counts nothing more; `counted` is false for a push whose counter had been
-- moved past (its block is stale), and `stale_command_id` names the push the card held, computed with
-- the same counter, when a late success moved the counter past it. Both are for operators too.
-- No grants: intake reaches its tables as the schema owner, as for d1_pin_change_counters.

-- CreateTable
CREATE TABLE "d1_pin_pushes" (
    "command_id" UUID NOT NULL,
    "issuer_id" TEXT NOT NULL,
    "card_id" TEXT NOT NULL,
    "change_counter" BIGINT NOT NULL,
    "claimed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "d1_pin_pushes_pkey" PRIMARY KEY ("command_id")
);

-- CreateTable
CREATE TABLE "d1_pin_push_successes" (
    "command_id" UUID NOT NULL,
    "issuer_id" TEXT NOT NULL,
    "card_id" TEXT NOT NULL,
    "change_counter" BIGINT NOT NULL,
    "counted" BOOLEAN NOT NULL,
    "stale_command_id" UUID,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "d1_pin_push_successes_pkey" PRIMARY KEY ("command_id")
);

-- The pushes in flight now were claimed with their card's current counter (the claim compares it).
INSERT INTO "d1_pin_pushes" ("command_id", "issuer_id", "card_id", "change_counter")
SELECT "in_flight_command_id", "issuer_id", "card_id", "change_counter" FROM "d1_pin_change_counters" WHERE "in_flight_command_id" IS NOT NULL;
