import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * docs/money-path.md walks one refund file by file (issue 13): each step names
 * a file that exists, no file is named twice, and the walk never returns to a
 * folder it left.
 */
const doc = readFileSync('docs/money-path.md', 'utf8');
const walk = doc.slice(doc.indexOf('## The walk'), doc.indexOf('## Why each folder'));
/** The file of each numbered step: the first code span of "N. `folder/file.ts`". */
const steps = [...walk.matchAll(/^\d+\. `([^`]+\.ts)`/gm)].map((m) => m[1] as string);
const foldersOf = (files: string[]) => files.map((f) => f.split('/')[0] as string);
/** Folders the walk comes back to after leaving them. */
const returns = (folders: string[]) => folders.filter((f, i) => i > 0 && f !== folders[i - 1] && folders.slice(0, i).includes(f));

describe('docs/money-path.md', () => {
  it('walks real files, in numbered steps, in order', () => {
    expect(steps.length).toBeGreaterThan(10);
    expect(steps[0]).toBe('webhooks/zapi.ts');
    for (const file of steps) expect(existsSync(file), file).toBe(true);
    expect(steps).toContain('refunds/cases.ts');
    expect(steps).toContain('refunds/jobs.ts');
    expect(steps.at(-1)).toBe('server/workers.ts');
    const numbers = [...walk.matchAll(/^(\d+)\. `/gm)].map((m) => Number(m[1]));
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
  });

  it('names each file once', () => {
    const named = [...doc.matchAll(/`([a-z-]+\/[A-Za-z0-9_./-]+\.ts)`/g)].map((m) => m[1] as string);
    const twice = named.filter((f, i) => named.indexOf(f) !== i);
    expect(twice).toEqual([]);
  });

  it('never returns to a folder it left', () => {
    expect(returns(foldersOf(steps))).toEqual([]);
    // The check itself catches a return.
    expect(returns(foldersOf(['webhooks/a.ts', 'agent/b.ts', 'webhooks/c.ts']))).toEqual(['webhooks']);
  });

  it('visits each folder under its own heading, in the order of the steps', () => {
    const headings = [...walk.matchAll(/^### `([a-z]+)\/`/gm)].map((m) => m[1] as string);
    expect(headings).toEqual([...new Set(foldersOf(steps))]);
  });
});
