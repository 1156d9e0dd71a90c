import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderLeaseScript, shellQuote } from './wanDhcpScript.js';

const run = promisify(execFile);

describe('renderLeaseScript', () => {
  let dir = '';
  let script = '';
  let leaseFile = '';
  let ipLog = '';

  beforeEach(async () => {
    // A state directory whose name needs quoting, and an `ip` that only records its arguments.
    dir = await mkdtemp(join(tmpdir(), "sag lease's-"));
    leaseFile = join(dir, 'udhcpc-wan0.lease.json');
    ipLog = join(dir, 'ip.log');
    script = join(dir, 'udhcpc-wan0.script');
    await writeFile(join(dir, 'ip'), '#!/bin/sh\necho "$*" >> "$IP_LOG"\n');
    await chmod(join(dir, 'ip'), 0o755);
    await writeFile(script, renderLeaseScript({ port: 'wan0', metric: 101, leaseFile }));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const event = async (name: string, lease: Record<string, string> = {}) => {
    await writeFile(ipLog, '');
    await run('sh', [script, name], {
      env: { PATH: `${dir}:${process.env.PATH}`, IP_LOG: ipLog, interface: 'wan0', ...lease },
    });
    return (await readFile(ipLog, 'utf8')).trim().split('\n').filter(Boolean);
  };
  const bound = {
    ip: '198.51.100.52',
    mask: '24',
    router: '198.51.100.1 198.51.100.2',
    dns: '198.51.100.53 198.51.100.54',
    lease: '120',
    serverid: '198.51.100.1',
  };

  it('on bound puts the address and a proto dhcp default route on the port, and records the lease', async () => {
    expect(await event('bound', bound)).toEqual([
      'address replace 198.51.100.52/24 dev wan0',
      'route replace default via 198.51.100.1 dev wan0 proto dhcp metric 101',
    ]);
    expect(JSON.parse(await readFile(leaseFile, 'utf8'))).toEqual({
      port: 'wan0',
      address: '198.51.100.52/24',
      ip: '198.51.100.52',
      mask: 24,
      router: '198.51.100.1',
      dns: ['198.51.100.53', '198.51.100.54'],
      leaseSeconds: 120,
      serverId: '198.51.100.1',
      metric: 101,
      obtainedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
  });

  it('on a renew with a new address removes only the previous lease first', async () => {
    await event('bound', bound);
    expect(await event('renew', { ...bound, ip: '198.51.100.60' })).toEqual([
      'route del default dev wan0 proto dhcp metric 101',
      'address del 198.51.100.52/24 dev wan0',
      'address replace 198.51.100.60/24 dev wan0',
      'route replace default via 198.51.100.1 dev wan0 proto dhcp metric 101',
    ]);
    expect(JSON.parse(await readFile(leaseFile, 'utf8')).address).toBe('198.51.100.60/24');
    expect(await event('renew', { ...bound, ip: '198.51.100.60' })).toEqual([
      'address replace 198.51.100.60/24 dev wan0',
      'route replace default via 198.51.100.1 dev wan0 proto dhcp metric 101',
    ]);
  });

  it('on deconfig, leasefail or nak removes the leased address and its route, and the record', async () => {
    for (const name of ['deconfig', 'leasefail', 'nak']) {
      await event('bound', bound);
      expect(await event(name)).toEqual([
        'route del default dev wan0 proto dhcp metric 101',
        'address del 198.51.100.52/24 dev wan0',
      ]);
      await expect(readFile(leaseFile, 'utf8')).rejects.toThrow();
    }
    // Nothing leased: only its own route is asked to go, no address is touched.
    expect(await event('deconfig')).toEqual(['route del default dev wan0 proto dhcp metric 101']);
  });

  it('reaches a router outside a /32 lease onlink, and records a lease without router as null', async () => {
    expect(await event('bound', { ...bound, mask: '32' })).toContain(
      'route replace default via 198.51.100.1 dev wan0 onlink proto dhcp metric 101',
    );
    await event('bound', { ip: '198.51.100.52', mask: '24', lease: '60' });
    expect(JSON.parse(await readFile(leaseFile, 'utf8'))).toMatchObject({
      router: null,
      dns: [],
      serverId: null,
    });
  });

  it('never names the resolver configuration', () => {
    expect(renderLeaseScript({ port: 'wan0', metric: 100, leaseFile: '/state/x' })).not.toMatch(/resolv/);
  });
});

describe('shellQuote', () => {
  it('keeps a word with quotes and spaces one word', async () => {
    const word = "it's a $HOME `x`";
    expect((await run('sh', ['-c', `printf %s ${shellQuote(word)}`])).stdout).toBe(word);
  });
});
