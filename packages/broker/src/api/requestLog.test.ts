import { Writable } from 'node:stream';
import Fastify, { LogController } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { logRequests } from './requestLog.js';

async function linesAt(level: string): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = pino({ level }, sink);
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  logRequests(app, logger);
  app.get('/v1/gateways/:id', async () => ({ id: 'sag-1' }));
  await app.inject({ method: 'GET', url: '/v1/gateways/sag-1?x=1' });
  await app.close();
  return lines.filter((line) => line.msg === 'request answered');
}

describe('logRequests', () => {
  it('writes one debug line per answered request at debug level', async () => {
    const lines = await linesAt('debug');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 20,
      method: 'GET',
      url: '/v1/gateways/sag-1?x=1',
      statusCode: 200,
    });
    expect(typeof lines[0].responseTimeMs).toBe('number');
  });

  it('writes nothing per request at info level', async () => {
    expect(await linesAt('info')).toEqual([]);
  });
});
