// A child started with --inspect=127.0.0.1:PORT, driven over the DevTools protocol: a full GC
// before a memory reading, and CPU profiles of one phase rather than of the whole process.
import { writeFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { waitFor } from './children.mjs';

export async function openInspector(port, timeoutMs = 30_000) {
  const targets = await waitFor(
    async () => {
      const response = await fetch(`http://127.0.0.1:${port}/json/list`);
      return response.ok ? response.json() : undefined;
    },
    { timeoutMs, what: `the inspector of a child process on port ${port}` },
  );
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, {
    perMessageDeflate: false,
    maxPayload: 2 ** 30,
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    const waiter = message.id !== undefined ? pending.get(message.id) : undefined;
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`inspector: ${message.error.message}`));
    else waiter.resolve(message.result);
  });
  ws.on('close', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('inspector: the child went away'));
    pending.clear();
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send('Profiler.enable');
  let profiling = false;
  return {
    /** A full, compacting garbage collection in the child. */
    collectGarbage: () => send('HeapProfiler.collectGarbage'),
    async startProfile() {
      await send('Profiler.setSamplingInterval', { interval: 1000 });
      await send('Profiler.start');
      profiling = true;
    },
    /** Stops the running profile and writes it to `file` (a .cpuprofile Chrome DevTools opens). */
    async stopProfile(file) {
      if (!profiling) return null;
      profiling = false;
      const { profile } = await send('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      return profile;
    },
    close: () => ws.close(),
  };
}
