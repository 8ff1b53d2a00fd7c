-- A forced replay used to overwrite the letter's row, so "who replayed this, when" kept only the
-- latest answer. Each replay is now a row of its own, numbered per letter (`sequence`: its 1st, 2nd…
-- replay): the first is unique, which is what still lets only one of two operators racing replay a
-- letter unforced, and a forced one appends the next number. The rows there are stay, each as its
-- letter's first replay.

-- AlterTable
ALTER TABLE "dead_letter_replays" ADD COLUMN "sequence" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "dead_letter_replays" ALTER COLUMN "sequence" DROP DEFAULT;
ALTER TABLE "dead_letter_replays" DROP CONSTRAINT "dead_letter_replays_pkey";
ALTER TABLE "dead_letter_replays" ADD CONSTRAINT "dead_letter_replays_pkey" PRIMARY KEY ("topic", "partition", "offset", "sequence");

-- Grant: a history is appended to, never rewritten. audit still deletes the claim of a replay whose
-- publishing failed (it did not happen), by its full key.
REVOKE UPDATE ON "dead_letter_replays" FROM "pinflow_audit_writer";
