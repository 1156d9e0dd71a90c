// A child's resident memory after a full garbage collection (asked for over its inspector), as
// the median of three readings half a second apart.
import { rssBytes, sleep } from './children.mjs';
import { median } from './stats.mjs';

export async function memorySample(pid, inspector) {
  const readings = [];
  for (let i = 0; i < 3; i++) {
    await inspector.collectGarbage();
    readings.push(rssBytes(pid));
    await sleep(500);
  }
  return median(readings);
}
