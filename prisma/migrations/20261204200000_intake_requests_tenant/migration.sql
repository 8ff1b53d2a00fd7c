-- The tenant of the token that made each request (its AUTH_TENANT_CLAIM claim), so that callers of
-- the same tenant can read each other's requests. Null for callers without a tenant and for requests
-- accepted before tenants were recorded: those stay visible to their caller and to operators only.

-- AlterTable
ALTER TABLE "intake_requests" ADD COLUMN "tenant" TEXT;
