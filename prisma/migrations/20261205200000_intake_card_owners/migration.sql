-- intake: which tenant each card belongs to, per vendor (card ids are the vendor's own, so the same
-- id at two vendors is two cards). With INTAKE_CARD_OWNERSHIP=enforced a write (PIN change, PIN
-- tries) is accepted only for a card of the caller's tenant: the group commit that records the request
-- looks its row up by this primary key. Rows come from `npm run cards -- import` (an issuer's
-- portfolio export); a card moved to another tenant is re-imported under it.

-- CreateTable
CREATE TABLE "intake_card_owners" (
    "vendor" TEXT NOT NULL,
    "card_id" TEXT NOT NULL,
    "tenant" TEXT NOT NULL,
    "assigned_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "intake_card_owners_pkey" PRIMARY KEY ("vendor","card_id")
);
