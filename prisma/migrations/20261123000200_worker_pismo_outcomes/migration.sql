-- AlterTable
ALTER TABLE "pismo_commands" ADD COLUMN     "sync_offline_pin" BOOLEAN,
ADD COLUMN     "outcome_event" JSONB,
ADD COLUMN     "outcome_published_at" TIMESTAMPTZ(3);
