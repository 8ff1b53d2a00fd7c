/** The ISO 9564-1 PIN block formats this library encodes and decodes. Format 2 is for offline chip use only. */
export const PIN_BLOCK_FORMATS = [0, 1, 3, 4] as const;

export type PinBlockFormat = (typeof PIN_BLOCK_FORMATS)[number];

/** The formats that are 8-byte blocks readable without a key, as opposed to format 4 (AES, always enciphered). */
export type ClearPinBlockFormat = Exclude<PinBlockFormat, 4>;
