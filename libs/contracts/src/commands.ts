import { z } from 'zod';
import { VENDOR_CONTRACTS } from './vendors';

export { cardId, compactJwe } from './vendor-contract';

type Contracts = (typeof VENDOR_CONTRACTS)[number];
type CommandSchemas = { [C in Contracts as C['name']]: C['command'] };

/** Each vendor's command topic and the schema of its messages. */
export const COMMAND_SCHEMAS = Object.fromEntries(VENDOR_CONTRACTS.map((vendor) => [vendor.name, vendor.command])) as CommandSchemas;

export type PinflowCommand = { [V in keyof CommandSchemas]: z.infer<CommandSchemas[V]> }[keyof CommandSchemas];
export type Operation = PinflowCommand['operation'];
