import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The providers' own documented samples (test/contract/fixtures/<provider>/),
 * each `name.json` beside `name.source.json` naming where it was copied from
 * (repository + path + commit + lines, or URL) and how it is replayed.
 */
export interface Fixture {
  provider: string;
  name: string;
  payload: any;
  source: { repository?: string; path?: string; commit?: string; lines?: string; heading?: string; url?: string };
  replay: string;
  note?: string;
}

const ROOT = path.join(import.meta.dirname, 'fixtures');

export function fixtures(provider?: string): Fixture[] {
  const providers = provider ? [provider] : readdirSync(ROOT);
  return providers.flatMap((p) =>
    readdirSync(path.join(ROOT, p))
      .filter((f) => f.endsWith('.source.json'))
      .sort()
      .map((f) => {
        const name = f.slice(0, -'.source.json'.length);
        const side = JSON.parse(readFileSync(path.join(ROOT, p, f), 'utf8'));
        return { provider: p, name, payload: JSON.parse(readFileSync(path.join(ROOT, p, `${name}.json`), 'utf8')), ...side };
      }),
  );
}

export const byReplay = (list: Fixture[], replay: string) => list.filter((f) => f.replay === replay);
