import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layout's rules, read from the source itself (issue 13): no import cycle between top-level
 * folders (`import type` counts too), and `tools/` holds the tool definitions and nothing else.
 */
const ROOT = process.cwd();
const EXCLUDED = new Set(['test', 'bench', 'node_modules', 'test-artifacts', 'docs']);

/** Top-level folders holding TypeScript source (test/ and bench/ excluded). */
function sourceFolders(): string[] {
  return readdirSync(ROOT, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !EXCLUDED.has(e.name))
    .map((e) => e.name)
    .filter((dir) => tsFiles(dir).length > 0)
    .sort();
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(rel));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Static imports and re-exports (type-only included) and dynamic `import('…')`, relative ones only. */
const SPECIFIER = /\b(?:import|export)\s[^;'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|\bimport\s+['"](\.{1,2}\/[^'"]+)['"]/g;

/** Folder → folders it imports from (edges to excluded folders such as test/ are ignored). */
function folderGraph(): Map<string, Map<string, string[]>> {
  const folders = sourceFolders();
  const graph = new Map<string, Map<string, string[]>>(folders.map((f) => [f, new Map()]));
  for (const folder of folders) {
    for (const file of tsFiles(folder)) {
      for (const m of readFileSync(path.join(ROOT, file), 'utf8').matchAll(SPECIFIER)) {
        const spec = (m[1] ?? m[2] ?? m[3]) as string;
        const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec));
        const to = target.split(path.sep)[0] as string;
        if (to === folder || !graph.has(to)) continue;
        const edges = graph.get(folder)!;
        edges.set(to, [...(edges.get(to) ?? []), `${file} → ${spec}`]);
      }
    }
  }
  return graph;
}

/** Every elementary cycle's first occurrence found by depth-first search, as folder lists. */
function cycles(graph: Map<string, Map<string, string[]>>): string[][] {
  const found: string[][] = [];
  const seen = new Set<string>();
  const visit = (node: string, stack: string[]) => {
    for (const next of graph.get(node)?.keys() ?? []) {
      const at = stack.indexOf(next);
      if (at >= 0) {
        const cycle = [...stack.slice(at), next];
        const key = [...cycle.slice(0, -1)].sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          found.push(cycle);
        }
      } else visit(next, [...stack, next]);
    }
  };
  for (const start of graph.keys()) visit(start, [start]);
  return found;
}

describe('architecture', () => {
  it('reads the source folders', () => {
    const folders = sourceFolders();
    for (const f of ['agent', 'tools', 'refunds', 'providers', 'data', 'core', 'server', 'console']) expect(folders).toContain(f);
    expect(folders).not.toContain('test');
    expect(folders).not.toContain('bench');
    // The graph sees imports: the agent reaches the tools.
    expect(folderGraph().get('agent')?.has('tools')).toBe(true);
  });

  it('has no import cycle between top-level folders', () => {
    const graph = folderGraph();
    const report = cycles(graph).map((cycle) => {
      const links = cycle.slice(0, -1).map((from, i) => `  ${from} → ${cycle[i + 1]}: ${graph.get(from)!.get(cycle[i + 1]!)!.join(', ')}`);
      return `${cycle.join(' → ')}\n${links.join('\n')}`;
    });
    expect(report, `folder import cycles:\n${report.join('\n')}`).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['a', new Map([['b', ['a/x.ts → ../b/y.ts']]])],
      ['b', new Map([['c', ['b/y.ts → ../c/z.ts']]])],
      ['c', new Map([['a', ['c/z.ts → ../a/x.ts']]])],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('tools/ holds the four tool definitions, the tool type, the registry and tool execution only', () => {
    expect(tsFiles('tools').map((f) => path.relative('tools', f)).sort()).toEqual([
      'execute.ts',
      'invoice_credit_note.ts',
      'ledger_lookup.ts',
      'notify_customer.ts',
      'pay_refund.ts',
      'registry.ts',
      'tool.ts',
    ]);
  });
});
