/**
 * What a terminal shows after some output: stdout and stderr written to one terminal end up as one sequence of
 * bytes, and this replays it on a grid the way a VT100-style terminal with output post-processing (`\n` moves to
 * the start of the next line) does. Knows carriage return, newline, erase in line (`ESC[K`, `ESC[2K`), cursor to a
 * column (`ESC[nG`), save and restore of the cursor (`ESC 7`, `ESC 8`), and cursor visibility and line wrapping
 * modes (ignored); anything else is an error, so a test cannot pass on output it does not understand.
 */
export function screen(output: string): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  for (let i = 0; i < output.length; ) {
    const ch = output[i]!;
    if (ch === '\x1b') {
      const m = /^\x1b(?:([78])|\[(\??)(\d*)([A-Za-z]))/.exec(output.slice(i));
      if (!m) throw new Error(`unknown escape sequence at ${i}: ${JSON.stringify(output.slice(i, i + 8))}`);
      if (m[1] === '7') saved = { row, col };
      else if (m[1] === '8') ({ row, col } = saved);
      else if (m[4] === 'G' && m[2] === '') col = Math.max(1, Number(m[3] || '1')) - 1;
      else if (m[4] === 'K') {
        const line = rows[row]!;
        if (m[3] === '2') line.length = 0;
        else if (m[3] === '' || m[3] === '0') line.length = Math.min(line.length, col);
        else throw new Error(`unsupported ${JSON.stringify(m[0])}`);
      } else if (!(m[2] === '?' && (m[4] === 'h' || m[4] === 'l'))) throw new Error(`unsupported ${JSON.stringify(m[0])}`);
      i += m[0].length;
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
      while (rows.length <= row) rows.push([]);
    } else {
      const line = rows[row]!;
      while (line.length < col) line.push(' ');
      line[col++] = ch;
    }
    i++;
  }
  const lines = rows.map((r) => r.join('').trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
