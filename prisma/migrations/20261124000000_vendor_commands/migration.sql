-- One command ledger and one event-receipt table for every vendor worker (@pinflow/worker-kit),
-- replacing Pismo's own. Existing rows move over unchanged, so a command Pismo's worker already
-- handled is still never sent again; the whole script runs in one transaction.

-- CreateTable
CREATE TABLE "vendor_commands" (
    "command_id" UUID NOT NULL,
    "vendor" TEXT NOT NULL,
    "request_id" UUID NOT NULL,
    "card_id" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "correlation_id" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "vendor_status" INTEGER,
    "details" JSONB,
    "outcome_event" JSONB,
    "outcome_published_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "vendor_commands_pkey" PRIMARY KEY ("command_id")
);

-- CreateTable
CREATE TABLE "vendor_event_receipts" (
    "vendor" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "vendor_event_receipts_pkey" PRIMARY KEY ("vendor","event_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "vendor_commands_vendor_correlation_id_key" ON "vendor_commands"("vendor", "correlation_id");

-- CopyData: Pismo's only vendor-specific column becomes a detail.
INSERT INTO "vendor_commands" ("command_id", "vendor", "request_id", "card_id", "operation", "state", "correlation_id", "attempts", "vendor_status", "details", "outcome_event", "outcome_published_at", "created_at", "updated_at")
SELECT "command_id", 'pismo', "request_id", "card_id", "operation", "state", "correlation_id", "attempts", "vendor_status",
       CASE WHEN "sync_offline_pin" IS NULL THEN NULL ELSE jsonb_build_object('syncOfflinePin', "sync_offline_pin") END,
       "outcome_event", "outcome_published_at", "created_at", "updated_at"
FROM "pismo_commands";

-- CopyData
INSERT INTO "vendor_event_receipts" ("vendor", "event_id", "event_type", "received_at")
SELECT 'pismo', "event_id", "event_type", "received_at" FROM "pismo_event_receipts";

-- DropTable
DROP TABLE "pismo_commands";

-- DropTable
DROP TABLE "pismo_event_receipts";
