/** Change PINs and increase PIN tries. */
export const PIN_WRITE_SCOPE = 'pin:write';
/** Read the status and history of PIN changes. */
export const PIN_READ_SCOPE = 'pin:read';
