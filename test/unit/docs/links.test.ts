import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The README and docs/ link only what a clone has: files in the repository and headings that exist. */
const FILES = ['README.md', 'docs/contract.md', 'docs/design.md', 'docs/providers.md', 'docs/money-path.md'];

/** GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').replace(/\s/g, '-');
const anchorsOf = (file: string) => new Set([...readFileSync(file, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)));

describe('documentation links', () => {
  it.each(FILES)('%s exists and links nothing outside the repository', (file) => {
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain('../shared');
  });

  it.each(FILES)('every relative link in %s reaches a file and, when it names one, a heading', (file) => {
    const text = readFileSync(file, 'utf8');
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string).filter((l) => !/^[a-z]+:/.test(l));
    for (const link of links) {
      const [target, anchor] = link.split('#') as [string, string | undefined];
      const resolved = target ? path.join(path.dirname(file), target) : file;
      expect(existsSync(resolved), `${file} → ${link}`).toBe(true);
      if (anchor) expect(anchorsOf(resolved).has(anchor), `${file} → ${link}`).toBe(true);
    }
  });

  it('the README links the three docs', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const doc of ['docs/design.md', 'docs/contract.md', 'docs/providers.md']) expect(readme).toContain(`](${doc})`);
  });
});
