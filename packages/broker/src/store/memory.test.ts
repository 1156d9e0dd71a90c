import { defineStoreContract } from '../testing/contract.js';
import { createMemoryStore } from './memory.js';

// An in-memory store has no file to reopen: the next "process" sees the same instance.
defineStoreContract('memory', { open: createMemoryStore, reopen: (store) => store });
