export * from './protocol.js';
export * from './topics.js';
export * from './ids.js';
export * from './limits.js';
export * from './errors.js';
export * from './config-loader.js';
