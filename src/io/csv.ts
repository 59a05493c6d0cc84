/**
 * CSV as RFC 4180 writes it and spreadsheets read it: fields with a comma, a quote or a line break
 * in double quotes (quotes doubled), CRLF-free lines, and cells that a spreadsheet would run as a
 * formula (starting with =, +, -, @, a tab or a carriage return: OWASP's "CSV injection") prefixed
 * with a single quote so they show as text. `parseCsv` reads the same format back (quoted fields
 * may hold commas, quotes and line breaks).
 *
 * ```ts
 * writeTextFile('paths.csv', csvLines([['index', 'path'], [0, 'a "b".jpg']]));   // 0,"a ""b"".jpg"
 * parseCsv(readFileSync('paths.csv', 'utf8'));                                   // [['index', 'path'], ['0', 'a "b".jpg']]
 * ```
 */

const FORMULA = /^[=+\-@\t\r]/;

/** One field, quoted when it must be; a text that looks like a formula is kept as text. */
export function csvField(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = FORMULA.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows as CSV text, one line per row, ending with a line break. */
export function csvLines(rows: (string | number)[][]): string {
  return rows.map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

/** The rows of CSV text (RFC 4180; LF or CRLF line ends; a last line without a break is kept; blank lines are skipped). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
    field = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) { endRow(); i += c === '\r' ? 2 : 1; continue; }
    field += c;
    i++;
  }
  if (quoted) throw new Error('CSV: a quoted field is not closed before the end of the text');
  if (field !== '' || row.length > 0) endRow();
  return rows;
}
