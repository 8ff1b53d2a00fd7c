import { Card, CardStatus } from './card';

export interface CardSeed {
  pan: string;
  status: CardStatus;
  changeCounter: number;
}

/** The CMS's cards. A card exists only once seeded: the CMS never invents one. */
export class CardRegistry {
  private readonly cards = new Map<string, Card>();

  /** Creates the card or replaces it with a fresh one, without a PIN. */
  seed(cardId: string, seed: CardSeed): Card {
    const card = new Card(cardId, seed.pan, seed.status, seed.changeCounter);
    this.cards.set(cardId, card);
    return card;
  }

  find(cardId: string): Card | undefined {
    return this.cards.get(cardId);
  }

  clear(): void {
    this.cards.clear();
  }
}
