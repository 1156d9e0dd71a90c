/** Plain-text views for people: aligned columns and key/value blocks. `--json` bypasses all of this. */

export type Cell = string | number | boolean | null | undefined;

const GAP = '  ';

/** A cell as shown: empty and absent values become `-`, so every column stays visibly filled. */
export function cellText(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** Columns aligned on the widest cell; headers upper case; no trailing spaces. */
export function table(headers: string[], rows: Cell[][]): string {
  const lines = [headers.map((h) => h.toUpperCase()), ...rows.map((row) => row.map(cellText))];
  const widths = headers.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length)));
  return lines
    .map((line) =>
      line
        .map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column])))
        .join(GAP)
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** `key  value` lines with the values aligned, for one resource. */
export function keyValues(pairs: [string, Cell][]): string {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}${GAP}${cellText(value)}\n`).join('');
}

/** A titled block: a blank line, the title, then the body (or `(none)`). */
export function section(title: string, body: string): string {
  return `\n${title}\n${body || '(none)\n'}`;
}

/** A list of strings as one cell. */
export function joined(values: readonly string[] | null | undefined): string {
  return values && values.length > 0 ? values.join(', ') : '';
}
