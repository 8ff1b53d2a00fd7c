import { httpConfig, logConfig, positiveInt } from '@pinflow/config';
import { sandboxConfig } from '@pinflow/sandbox-kit';
import { z } from 'zod';

export const sandboxConfigSchema = z.object({
  ...httpConfig,
  ...logConfig,
  ...sandboxConfig,
  /** How long a PIN change request may wait for its authorization and confirmation. */
  SOLARIS_CHANGE_REQUEST_TTL_SECONDS: positiveInt.default(300),
});

export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;
