import type { AgentLog, LogLevel } from '../session/log.js';
import type { LogLevelSetting } from './settings.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One JSON object per line, so the log can be read by people and by log shippers alike. */
export function jsonLineLog(
  write: (line: string) => void,
  level: LogLevelSetting,
  base: Record<string, unknown> = {},
  now: () => number = Date.now,
): AgentLog {
  const threshold = level === 'silent' ? Number.POSITIVE_INFINITY : RANK[level];
  const at =
    (entryLevel: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}): void => {
      if (RANK[entryLevel] < threshold) return;
      const entry = {
        time: new Date(now()).toISOString(),
        level: entryLevel,
        msg: message,
        ...base,
        ...fields,
      };
      write(`${JSON.stringify(entry)}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
