import type { z } from 'zod';
import type { SandboxSettings } from './config';
import type { VendorDialect } from './vendor-error';

/** What a sandbox tells the kit about its vendor. */
export interface SandboxKitOptions {
  /** The sandbox's name, e.g. `sandbox-pismo`: the context of its error logs. */
  service: string;
  /** Path of the vendor's OAuth2 client-credentials endpoint, e.g. `/passport/v1/oauth2/token`. */
  tokenPath: string;
  /** The `scope` the token endpoint's answers carry, for a vendor whose answers name one. */
  tokenScope?: string;
  /** The app's config, or any object holding the kit's settings: the client credentials and token lifetime. */
  settings: SandboxSettings;
  dialect: VendorDialect;
  /** Finds the card a vendor path addresses (the first capture group), for the call records. */
  cardIdInPath: RegExp;
  /** The vendor's correlation-id header, if it has one; otherwise every call gets a made-up id. */
  correlationHeader?: string;
  /** The operations `GET /sandbox/applied` counts, e.g. `['pinChanges']`. */
  appliedOperations: readonly string[];
  /** The vendor's own knobs, next to the shared ones: their schema and their values at rest. */
  vendorKnobs?: { schema: z.ZodObject; defaults: object };
  /** Forgets the sandbox's own state (cards...) on `POST /sandbox/reset`. */
  onReset: () => void;
}

export const SANDBOX_KIT_OPTIONS = Symbol('SANDBOX_KIT_OPTIONS');
