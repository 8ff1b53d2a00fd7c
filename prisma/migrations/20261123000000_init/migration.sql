-- CreateTable
CREATE TABLE "intake_requests" (
    "id" UUID NOT NULL,
    "command_id" UUID NOT NULL,
    "vendor" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "card_id" TEXT NOT NULL,
    "caller" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "request_fingerprint" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "accepted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "intake_requests_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "intake_request_events" (
    "event_id" TEXT NOT NULL,
    "request_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "time" TIMESTAMPTZ(3) NOT NULL,
    "data" JSONB NOT NULL,

    CONSTRAINT "intake_request_events_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "pismo_commands" (
    "command_id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "card_id" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "correlation_id" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "vendor_status" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "pismo_commands_pkey" PRIMARY KEY ("command_id")
);

-- CreateTable
CREATE TABLE "pismo_event_receipts" (
    "event_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pismo_event_receipts_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "sequence" BIGSERIAL NOT NULL,
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "card_id" TEXT NOT NULL,
    "request_id" TEXT,
    "command_id" TEXT,
    "time" TIMESTAMPTZ(3) NOT NULL,
    "data" JSONB NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("sequence")
);

-- CreateIndex
CREATE UNIQUE INDEX "intake_requests_command_id_key" ON "intake_requests"("command_id");

-- CreateIndex
CREATE INDEX "intake_requests_card_id_idx" ON "intake_requests"("card_id");

-- CreateIndex
CREATE UNIQUE INDEX "intake_requests_caller_idempotency_key_key" ON "intake_requests"("caller", "idempotency_key");

-- CreateIndex
CREATE INDEX "intake_request_events_request_id_idx" ON "intake_request_events"("request_id");

-- CreateIndex
CREATE UNIQUE INDEX "pismo_commands_correlation_id_key" ON "pismo_commands"("correlation_id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_event_id_key" ON "audit_events"("event_id");

-- CreateIndex
CREATE INDEX "audit_events_card_id_sequence_idx" ON "audit_events"("card_id", "sequence" DESC);

-- CreateIndex
CREATE INDEX "audit_events_request_id_sequence_idx" ON "audit_events"("request_id", "sequence");

-- AddForeignKey
ALTER TABLE "intake_request_events" ADD CONSTRAINT "intake_request_events_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "intake_requests"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
