export * from './environment';
export * from './stream';
export * from './scenarios';
export * from './figures';
export * from './drill';
export * from './report';
