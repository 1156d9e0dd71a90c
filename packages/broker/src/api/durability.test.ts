import Fastify from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_KEEPALIVE } from '../config.js';
import { ControlPlane } from '../controlPlane.js';
import { DEFAULT_QUOTAS } from '../domain/catalogue.js';
import { SagError } from '../errors.js';
import { createMemoryStore } from '../store/memory.js';
import { type Durability, holdAnswersUntilDurable } from './durability.js';
import { installErrorHandlers } from './errorHandler.js';
import { buildApi } from './server.js';

/** A durability whose pending sync the test settles by hand. */
function manualSync() {
  let pending: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } | null = null;
  const durability: Durability = { whenDurable: () => pending?.promise ?? null };
  return {
    durability,
    begin() {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      pending = { promise, resolve, reject };
    },
    finish(err?: Error) {
      const current = pending;
      pending = null;
      if (err) current?.reject(err);
      else current?.resolve();
    },
  };
}

function bareApp(durability: Durability) {
  const app = Fastify();
  installErrorHandlers(app);
  holdAnswersUntilDurable(app, durability);
  app.get('/thing', async () => ({ ok: true }));
  app.get('/broken', async () => {
    throw new SagError('INTERNAL', 'broken on purpose');
  });
  return app;
}

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describe('holdAnswersUntilDurable', () => {
  it('answers at once when nothing is pending', async () => {
    const sync = manualSync();
    const app = bareApp(sync.durability);
    apps.push(app);
    const res = await app.inject({ method: 'GET', url: '/thing' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  it('holds the answer until the pending sync settles', async () => {
    const sync = manualSync();
    const app = bareApp(sync.durability);
    apps.push(app);
    sync.begin();
    let answered = false;
    const answer = app.inject({ method: 'GET', url: '/thing' }).then((res) => {
      answered = true;
      return res;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(answered).toBe(false);
    sync.finish();
    const res = await answer;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  it('turns a failed sync into a 500 INTERNAL naming the cause, and does not hold server errors', async () => {
    const sync = manualSync();
    const app = bareApp(sync.durability);
    apps.push(app);
    sync.begin();
    const answer = app.inject({ method: 'GET', url: '/thing' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    sync.finish(
      new SagError('INTERNAL', 'could not be flushed to disk (fsync of /data/opensag.db-wal: EIO)'),
    );
    const res = await answer;
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('EIO') });

    sync.begin();
    const broken = await app.inject({ method: 'GET', url: '/broken' });
    expect(broken.statusCode).toBe(500);
    sync.finish();
  });
});

describe('buildApi with durability', () => {
  it('holds a mutation answer under /v1 until the write is synced, not /healthz', async () => {
    const log = pino({ level: 'silent' });
    const controlPlane = new ControlPlane({
      store: createMemoryStore(),
      log,
      settings: { enabledAreas: ['china-mainland'], quotas: { ...DEFAULT_QUOTAS } },
      compile: { accessPoints: [{ id: 'ap-test', address: '127.0.0.1:7000' }], keepalive: DEFAULT_KEEPALIVE },
    });
    const sync = manualSync();
    const token = 'durability-test-token';
    const app = buildApi({ controlPlane, token, logger: log, rateLimit: false, durability: sync.durability });
    apps.push(app);
    await app.ready();
    sync.begin();
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    let answered = false;
    const created = app
      .inject({
        method: 'POST',
        url: '/v1/ccns',
        headers: { authorization: `Bearer ${token}` },
        payload: { name: 'Branches', area: 'china-mainland' },
      })
      .then((res) => {
        answered = true;
        return res;
      });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(answered).toBe(false);
    sync.finish();
    expect((await created).statusCode).toBe(201);
  });
});
