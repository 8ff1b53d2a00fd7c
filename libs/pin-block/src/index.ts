export * from './errors';
export * from './format';
export * from './pin-block';
export { encodeIso0, decodeIso0, iso0PinLength } from './iso0';
export { encodeIso1, decodeIso1, type Iso1Options } from './iso1';
export { encodeIso3, decodeIso3 } from './iso3';
export { encodeIso4, decodeIso4, type AesKey } from './iso4';
export { encipherTdes, decipherTdes, type TdesKey } from './tdes';
