import type { Infrastructure } from './infrastructure';

export default async function globalTeardown(): Promise<void> {
  const infrastructure = (globalThis as { __pinflowInfrastructure?: Infrastructure }).__pinflowInfrastructure;
  await infrastructure?.teardown();
}
