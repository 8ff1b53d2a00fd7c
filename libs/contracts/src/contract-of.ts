import type { z } from 'zod';
import { COMMAND_SCHEMAS } from './commands';
import { pinflowEvent } from './events';
import { commandTopic, EVENTS_TOPIC, VENDORS } from './topics';

const CONTRACTS = new Map<string, z.ZodType>([...VENDORS.map((vendor) => [commandTopic(vendor), COMMAND_SCHEMAS[vendor]] as const), [EVENTS_TOPIC, pinflowEvent]]);

/** The schema every message on one of pinflow's topics follows; throws for a topic pinflow does not own. */
export function contractOf(topic: string): z.ZodType {
  const contract = CONTRACTS.get(topic);
  if (!contract) throw new Error(`${topic} is not a pinflow topic`);
  return contract;
}
