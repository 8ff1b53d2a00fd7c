import { randomInt } from 'node:crypto';
import { Card, CardStatus, CardType } from './card';

export interface CardSeed {
  status: CardStatus;
  programId: number;
  accountId?: number;
  customerId?: number;
  cardType: CardType;
  cardName?: string;
  printedName?: string;
  pan?: string;
  maxPasswordTries?: number;
}

const CARD_LIFETIME_YEARS = 5;

/** The cards and programs the sandbox knows. Cards exist only once seeded: Pismo never invents one. */
export class CardRegistry {
  private readonly cards = new Map<string, Card>();
  private readonly programMaxTries = new Map<number, number>();
  private lastId = 0;

  constructor(private readonly defaultMaxPasswordTries: number) {}

  /** Creates the card or replaces it with a fresh one (no PIN, no tries, no scripts). */
  seed(cardId: string, seed: CardSeed, now = new Date()): Card {
    const expirationDate = new Date(Date.UTC(now.getUTCFullYear() + CARD_LIFETIME_YEARS, now.getUTCMonth(), 1));
    const card = new Card(
      {
        cardId,
        // One account and one customer per card unless told otherwise, so events of different cards differ.
        accountId: seed.accountId ?? this.nextId(),
        customerId: seed.customerId ?? this.nextId(),
        programId: seed.programId,
        cardType: seed.cardType,
        cardName: seed.cardName ?? `Sandbox card ${cardId}`,
        printedName: seed.printedName ?? 'SANDBOX CARDHOLDER',
        // Every card has a number; a test that builds PIN blocks for it seeds its own.
        pan: seed.pan ?? `9${Array.from({ length: 15 }, () => randomInt(10)).join('')}`,
        issuingDate: now,
        expirationDate,
        maxPasswordTries: seed.maxPasswordTries,
      },
      seed.status,
    );
    this.cards.set(cardId, card);
    return card;
  }

  find(cardId: string): Card | undefined {
    return this.cards.get(cardId);
  }

  setProgramMaxPasswordTries(programId: number, maxPasswordTries: number): void {
    this.programMaxTries.set(programId, maxPasswordTries);
  }

  /** Read at every try, so changing a program affects its existing cards, as a program parameter does. */
  maxPasswordTries(card: Card): number {
    return card.profile.maxPasswordTries ?? this.programMaxTries.get(card.profile.programId) ?? this.defaultMaxPasswordTries;
  }

  /** Ids the sandbox makes up (accounts, customers, chip scripts), unique for the life of the process. */
  nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  clear(): void {
    this.cards.clear();
    this.programMaxTries.clear();
  }
}
