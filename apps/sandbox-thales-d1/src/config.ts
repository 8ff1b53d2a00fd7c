import { httpConfig, logConfig } from '@pinflow/config';
import { sandboxConfig } from '@pinflow/sandbox-kit';
import { z } from 'zod';

export const sandboxConfigSchema = z.object({
  ...httpConfig,
  ...logConfig,
  ...sandboxConfig,
  /** The one issuer this CMS serves; D1 issuer ids are exactly 10 characters. */
  D1_ISSUER_ID: z.string().length(10, 'must be exactly 10 characters, as D1 issuer ids are').default('ISSUER0001'),
});

export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;
