// Event ids are derived the same way by intake: the function lives with the event contracts.
export { deterministicEventId } from '@pinflow/contracts';
