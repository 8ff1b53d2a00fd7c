import { z } from 'zod';
import { pismoCommand } from './commands';
import { pinflowEvent } from './events';

/** JSON Schemas of every message, generated from the same zod schemas producers and consumers validate with. */
export function messageJsonSchemas(): Record<string, unknown> {
  return {
    PismoCommand: z.toJSONSchema(pismoCommand, { io: 'input' }),
    PinflowEvent: z.toJSONSchema(pinflowEvent, { io: 'input' }),
  };
}
