import type { PinPublicJwk } from '@pinflow/pin-crypto';
import type { Stack, VendorName } from './stack';
import type { PinChangeRequest, ScenarioContext } from './vendor-platform';
import { vendorPlatform } from './stack';

export type { PinChangeRequest } from './vendor-platform';
export { acceptablePin, testPan } from './pins';

/**
 * How to make a valid PIN change for each vendor through a running stack: seed the card in the
 * vendor's sandbox, then build the request as that vendor's callers do (each vendor's scenario in
 * ./vendors). Used by the start command, the benchmark and the failure drills.
 */
export class PinChangeScenarios {
  private readonly memory = new Map<VendorName, Map<string, unknown>>();

  constructor(private readonly stack: Stack, private readonly token: string) {}

  /** A card id the vendor accepts. */
  cardId(vendor: VendorName, index: number): string {
    return vendorPlatform(vendor).scenario.cardId(index);
  }

  /** Whether each change of this vendor's needs a card of its own, and a request built just before it is sent. */
  oneChangePerCard(vendor: VendorName): boolean {
    return vendorPlatform(vendor).scenario.oneChangePerCard ?? false;
  }

  seed(vendor: VendorName, cardId: string): Promise<void> {
    return vendorPlatform(vendor).scenario.seed(this.context(vendor), cardId);
  }

  /** A fresh, valid request for a seeded card. */
  request(vendor: VendorName, cardId: string): Promise<PinChangeRequest> {
    return vendorPlatform(vendor).scenario.request(this.context(vendor), cardId);
  }

  /**
   * The same change on the Kafka door: vendor, operation, path parameters and body, without the
   * envelope (schemaVersion, clientRequestId, replyTopic). Found from the vendor's route whose path
   * the HTTP request took, so it is the HTTP request, whatever the vendor.
   */
  kafkaRequest(vendor: VendorName, request: PinChangeRequest): Record<string, unknown> {
    for (const route of vendorPlatform(vendor).contract.routes) {
      const names: string[] = [];
      const pattern = new RegExp(`^/v1/${vendor}/${route.path.replace(/:(\w+)/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
      const match = pattern.exec(request.path);
      if (match) return { vendor, operation: route.operation, ...Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1])])), body: request.body };
    }
    throw new Error(`${request.path} is none of ${vendor}'s routes`);
  }

  private context(vendor: VendorName): ScenarioContext {
    if (!this.memory.has(vendor)) this.memory.set(vendor, new Map());
    return {
      sandboxUrl: this.stack.urls[`sandbox-${vendor}`],
      intakeUrl: this.stack.urls.intake,
      token: this.token,
      pinKey: this.stack.secrets.pinKeyRing.currentPublicJwk as PinPublicJwk,
      memory: this.memory.get(vendor)!,
    };
  }
}
