// What workers' integration tests share; not part of the worker kit services run on.
export * from './worker-under-test';
