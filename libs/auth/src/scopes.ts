/** Change PINs and increase PIN tries. */
export const PIN_WRITE_SCOPE = 'pin:write';
/** Read the status and history of PIN changes: the caller's own, its tenant's, and its cards'. */
export const PIN_READ_SCOPE = 'pin:read';
/** With {@link PIN_READ_SCOPE}, read every caller's requests and every card's history (back office, support). */
export const OPERATOR_SCOPE = 'pinflow:operator';
