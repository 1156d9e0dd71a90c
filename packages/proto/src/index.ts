export * from './acl.js';
