import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replaceSection } from '../../../bench/results-file.ts';

describe('replaceSection (bench/RESULTS.md writers)', () => {
  const dirs: string[] = [];
  const file = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-results-'));
    dirs.push(dir);
    return path.join(dir, 'RESULTS.md');
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const A = ['<!-- a -->', '<!-- /a -->'] as const;
  const B = ['<!-- b -->', '<!-- /b -->'] as const;
  const C = ['<!-- c -->', '<!-- /c -->'] as const;

  it('creates the file, then appends a section it does not hold yet', () => {
    const f = file();
    replaceSection(f, ...A, 'one');
    expect(readFileSync(f, 'utf8')).toBe('<!-- a -->\none\n<!-- /a -->\n');
    replaceSection(f, ...B, 'two\n');
    expect(readFileSync(f, 'utf8')).toBe('<!-- a -->\none\n<!-- /a -->\n\n<!-- b -->\ntwo\n<!-- /b -->\n');
  });

  it('replaces only its own section, whichever comes first, and keeps the text around it', () => {
    const f = file();
    writeFileSync(f, 'intro\n\n<!-- a -->\nold a\n<!-- /a -->\n\nbetween\n\n<!-- b -->\nold b\n<!-- /b -->\n\n<!-- c -->\nold c\n<!-- /c -->\ntail\n');
    replaceSection(f, ...A, 'new a');
    replaceSection(f, ...C, 'new c');
    replaceSection(f, ...B, 'new b\nmore');
    expect(readFileSync(f, 'utf8')).toBe('intro\n\n<!-- a -->\nnew a\n<!-- /a -->\n\nbetween\n\n<!-- b -->\nnew b\nmore\n<!-- /b -->\n\n<!-- c -->\nnew c\n<!-- /c -->\ntail\n');
    // Writing a section again gives the same file.
    const before = readFileSync(f, 'utf8');
    replaceSection(f, ...B, 'new b\nmore');
    expect(readFileSync(f, 'utf8')).toBe(before);
  });
});
