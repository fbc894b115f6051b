import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Writes `body` between the lines `begin` and `end` of `file` (markers kept,
 * e.g. `<!-- replicas: npm run bench:replicas -->` … `<!-- /replicas -->`),
 * leaving everything outside them as it was; appends the section, markers and
 * all, when the file has none yet (creates the file when missing). Each
 * benchmark writes its own section of bench/RESULTS.md, so one run never
 * deletes another's figures.
 */
export function replaceSection(file: string, begin: string, end: string, body: string): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const section = `${begin}\n${body.trim()}\n${end}`;
  const from = current.indexOf(begin);
  const to = from >= 0 ? current.indexOf(end, from + begin.length) : -1;
  const next =
    from >= 0 && to >= 0
      ? current.slice(0, from) + section + current.slice(to + end.length)
      : `${current.trimEnd()}${current.trim() ? '\n\n' : ''}${section}\n`;
  writeFileSync(file, next);
}
