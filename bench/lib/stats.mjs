// Small figures shared by the fleet benchmark's phases.

export const median = (list) => {
  if (list.length === 0) return Number.NaN;
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The most events that fell into one whole second counted from `t0` (all times in ms). */
export function peakPerSecond(times, t0) {
  const perSecond = new Map();
  for (const t of times) {
    const second = Math.floor((t - t0) / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  return Math.max(0, ...perSecond.values());
}

export const ms = (value) => `${Math.round(value)} ms`;
export const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
export const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
export const ratio = (a, b) => (b > 0 ? a / b : Number.NaN);
export const times = (r) => `${r.toFixed(2)}×`;
