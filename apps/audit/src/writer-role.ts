import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SqlPool } from '@pinflow/sql';
import type { Logger } from '@pinflow/logging';
import { AUDIT_CONFIG, AuditConfig } from './config';
import { AUDIT_LOGGER } from './tokens';

/**
 * DATABASE_URL with the service's role as a start-up option, so every pooled session takes it before
 * its first statement. A session can still SET ROLE NONE back to its login: production gives the
 * service a login of its own with only the role's grants (see README).
 */
export function auditDatabaseUrl(config: Pick<AuditConfig, 'DATABASE_URL' | 'AUDIT_DATABASE_ROLE'>): string {
  const url = new URL(config.DATABASE_URL);
  const options = url.searchParams.get('options');
  url.searchParams.set('options', `${options ? `${options} ` : ''}-c role=${config.AUDIT_DATABASE_ROLE}`);
  return url.toString();
}

/** Whether this session could change or remove stored rows, or switch audit_events' triggers off. */
const SESSION_CAN_REWRITE = `SELECT current_user AS role,
         has_table_privilege('audit_events', 'UPDATE, DELETE, TRUNCATE')
         OR pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'audit_events'::regclass), 'USAGE') AS "canRewrite"`;

/**
 * Connects once at start-up, so a role that does not exist or is not granted to the login fails the
 * start. A session that could still rewrite the trail is only warned about: the embedded database
 * (npm start) and connection poolers that drop start-up options leave every session as its login.
 */
@Injectable()
export class WriterRoleCheck implements OnApplicationBootstrap {
  constructor(
    private readonly pool: SqlPool,
    @Inject(AUDIT_CONFIG) private readonly config: AuditConfig,
    @Inject(AUDIT_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { rows } = await this.pool.query<{ role: string; canRewrite: boolean }>(SESSION_CAN_REWRITE);
    const [{ role, canRewrite }] = rows;
    if (canRewrite) {
      this.logger.warn(
        { role, expectedRole: this.config.AUDIT_DATABASE_ROLE },
        `audit writes as ${role}, which can change or delete audit_events: give the service a login with only ${this.config.AUDIT_DATABASE_ROLE}'s grants`,
      );
    }
  }
}
