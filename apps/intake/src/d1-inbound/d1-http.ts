/** A card id as D1's PIN Management API declares it. */
export const CARD_ID = /^[A-Za-z0-9_-]{1,48}$/;

/** `x-correlation-id`: logged, and used to recognise D1's retries; the alphabet the CMS sandbox takes. */
export const CORRELATION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
