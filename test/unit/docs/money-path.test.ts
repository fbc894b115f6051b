import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * docs/money-path.md walks one refund file by file (issue 13): each step names
 * a file that exists, no file is named twice, and every folder the walk comes
 * back to is explained under "Where the code returns".
 */
const doc = readFileSync('docs/money-path.md', 'utf8');
const walk = doc.slice(doc.indexOf('## The walk'), doc.indexOf('## Where the code returns'));
const returns = doc.slice(doc.indexOf('## Where the code returns'));
/** The file of each numbered step: the first code span of "N. `folder/file.ts`". */
const steps = [...walk.matchAll(/^\d+\. `([^`]+\.ts)`/gm)].map((m) => m[1] as string);

describe('docs/money-path.md', () => {
  it('walks real files, in numbered steps', () => {
    expect(steps.length).toBeGreaterThan(10);
    expect(steps[0]).toBe('webhooks/zapi.ts');
    for (const file of steps) expect(existsSync(file), file).toBe(true);
    expect(steps).toContain('refunds/cases.ts');
    expect(steps).toContain('server/workers.ts');
  });

  it('names each file once', () => {
    const named = [...doc.matchAll(/`([a-z-]+\/[A-Za-z0-9_./-]+\.ts)`/g)].map((m) => m[1] as string);
    const twice = named.filter((f, i) => named.indexOf(f) !== i);
    expect(twice).toEqual([]);
  });

  it('explains every return to a folder it left', () => {
    const folders = steps.map((f) => f.split('/')[0] as string);
    const returned = folders.filter((f, i) => i > 0 && f !== folders[i - 1] && folders.slice(0, i).includes(f));
    expect(returned.length).toBeGreaterThan(0); // the walk as the code runs it today does return
    for (const folder of returned) expect(returns, folder).toContain(`\`${folder}/\``);
  });
});
