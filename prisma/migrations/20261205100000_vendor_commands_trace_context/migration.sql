-- The trace context (W3C traceparent, tracestate) a command was handled in, stored when it is claimed
-- (its vendor's event may overtake the call's answer): a vendor echoes its correlation id, not
-- pinflow's traceparent, so the worker resumes the command's trace from here when the event for that
-- correlation arrives, and the outcome travels in the same trace as the request. Null when the worker
-- did not trace.

-- AlterTable
ALTER TABLE "vendor_commands" ADD COLUMN "trace_context" JSONB;
