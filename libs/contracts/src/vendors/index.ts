import { pismo } from './pismo';
import { solaris } from './solaris';
import { thalesD1 } from './thales-d1';
import { vault } from './vault';

/**
 * The registry: every vendor pinflow routes PIN changes to, each described once in its own file.
 * Topics, intake's routes, the request door, the AsyncAPI and OpenAPI documents read this list.
 */
export const VENDOR_CONTRACTS = [pismo, solaris, thalesD1, vault] as const;

export * from './pismo';
export * from './solaris';
export * from './thales-d1';
export * from './vault';
