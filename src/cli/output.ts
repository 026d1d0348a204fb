// What the CLI prints for humans: aligned tables and field lists, with values made safe for a
// terminal (control characters shown, never executed), and JSON for machines.

/** Control characters (newlines, escape sequences) in a value become visible escapes. */
export function cell(value: unknown, maxWidth = Infinity): string {
  const text = value === null || value === undefined || value === '' ? '-' : String(value);
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return safe.length > maxWidth ? `${safe.slice(0, Math.max(0, maxWidth - 3))}...` : safe;
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(headers: string[], rows: unknown[][]): string {
  const cells = [headers, ...rows.map((row) => headers.map((_, i) => cell(row[i])))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((value, i) => (i === row.length - 1 ? value : value.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** "name  value" lines, names aligned; entries whose value is undefined are left out. */
export function fields(entries: Array<[string, unknown]>): string {
  const shown = entries.filter(([, value]) => value !== undefined);
  const width = Math.max(0, ...shown.map(([name]) => name.length));
  return shown.map(([name, value]) => `${name.padEnd(width)}  ${cell(value)}`.trimEnd()).join('\n').concat('\n');
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** An ISO timestamp shortened for tables: 2025-01-02 03:04:05Z. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
