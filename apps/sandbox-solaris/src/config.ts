import { httpConfig, logConfig } from '@pinflow/config';
import { sandboxConfig } from '@pinflow/sandbox-kit';
import { z } from 'zod';

export const sandboxConfigSchema = z.object({
  ...httpConfig,
  ...logConfig,
  ...sandboxConfig,
});

export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;
