-- Which dead letters an operator replayed, when and who: a replayed letter stays on the dead-letter
-- topic (Kafka deletes nothing on demand), so without this the console and the CLI would offer to
-- replay it again after every refresh. Keyed by the letter's place on the dead-letter topic. A replay
-- is claimed here before it is published and released if publishing fails, so audit's role may
-- change these rows; they say what operators did, not what happened to a card, and are outside the
-- hash chain.

-- CreateTable
CREATE TABLE "dead_letter_replays" (
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "offset" BIGINT NOT NULL,
    "source_topic" TEXT NOT NULL,
    "replayed_by" TEXT NOT NULL,
    "replayed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dead_letter_replays_pkey" PRIMARY KEY ("topic","partition","offset")
);

-- Grant: audit replays letters for the console (pinflow_audit_writer exists since 20261204000100_audit_hash_chain).
GRANT SELECT, INSERT, UPDATE, DELETE ON "dead_letter_replays" TO "pinflow_audit_writer";
