import { randomUUID } from 'node:crypto';
import type { z } from 'zod';

/**
 * A command as intake publishes it, for tests: fresh ids and a made-up envelope, the vendor's fields
 * from `fields` (which may override the envelope too), checked against the command's contract.
 */
export function testCommand<S extends z.ZodType>(schema: S, fields: Partial<z.input<S>> & Record<string, unknown>): z.output<S> {
  return schema.parse({
    schemaVersion: 1,
    commandId: randomUUID(),
    requestId: randomUUID(),
    cardId: 'card-1',
    caller: { subject: 'worker-test' },
    issuedAt: new Date().toISOString(),
    ...fields,
  });
}
