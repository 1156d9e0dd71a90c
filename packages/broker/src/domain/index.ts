/** The domain: entities, the rules of SPEC §3, and the pure operations that enforce them. */
export * from './apply.js';
export * from './catalogue.js';
export * from './cidr.js';
export * from './lifecycle.js';
export * from './names.js';
export * from './operations/index.js';
export * from './overlap.js';
export * from './ports.js';
export * from './quotas.js';
export * from './rules.js';
export * from './securityGroupMatch.js';
export * from './types.js';
