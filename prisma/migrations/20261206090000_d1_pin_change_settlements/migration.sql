-- A push whose outcome is unknown (OUTCOME_UNKNOWN) holds its card until an operator who found the
-- outcome out settles it (`npm run ops -- d1-settle`). Each settlement is kept: it says who decided
-- what, and lets the same settlement sent again be answered as before instead of refused.

-- CreateTable
CREATE TABLE "d1_pin_change_settlements" (
    "command_id" UUID NOT NULL,
    "issuer_id" TEXT NOT NULL,
    "card_id" TEXT NOT NULL,
    "succeeded" BOOLEAN NOT NULL,
    "change_counter" BIGINT NOT NULL,
    "settled_by" TEXT NOT NULL,
    "settled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "d1_pin_change_settlements_pkey" PRIMARY KEY ("command_id")
);
