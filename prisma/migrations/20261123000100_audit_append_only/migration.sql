-- audit_events is append-only for every database role, not just for the audit service's code:
-- history that can be rewritten is no evidence. Statement-level triggers, so even an UPDATE or
-- DELETE that matches no row is refused, and TRUNCATE (which bypasses row triggers) too.
CREATE FUNCTION "audit_events_reject_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_events_append_only"
    BEFORE UPDATE OR DELETE OR TRUNCATE ON "audit_events"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_reject_change"();
