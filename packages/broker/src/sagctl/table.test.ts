import { describe, expect, it } from 'vitest';
import { cellText, keyValues, section, table } from './table.js';

describe('table', () => {
  it('aligns every column on its widest cell, headers upper case, no trailing spaces', () => {
    const text = table(
      ['id', 'name', 'ccn'],
      [
        ['sag-1', 'Hangzhou branch', 'ccn-1'],
        ['sag-22', 'Nb', null],
      ],
    );
    expect(text).toBe(
      'ID      NAME             CCN\n' + 'sag-1   Hangzhou branch  ccn-1\n' + 'sag-22  Nb               -\n',
    );
  });

  it('prints only the header for an empty list', () => {
    expect(table(['id', 'name'], [])).toBe('ID  NAME\n');
  });
});

describe('cells', () => {
  it('shows absent values as "-" and booleans as yes/no', () => {
    expect([null, undefined, '', true, false, 0, 'x'].map(cellText)).toEqual([
      '-',
      '-',
      '-',
      'yes',
      'no',
      '0',
      'x',
    ]);
  });
});

describe('keyValues and section', () => {
  it('aligns values after the longest key', () => {
    expect(
      keyValues([
        ['id', 'sag-1'],
        ['serial number', null],
      ]),
    ).toBe('id             sag-1\nserial number  -\n');
  });

  it('titles a block and says (none) when it is empty', () => {
    expect(section('RULES', '')).toBe('\nRULES\n(none)\n');
    expect(section('RULES', 'a\n')).toBe('\nRULES\na\n');
  });
});
