import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSeed } from '../../../sandbox/seed.ts';
import { World, type FocusNote, type TrioRefund } from '../../../sandbox/emulators/state.ts';

/** Issue 15: the emulated world journals each change instead of rewriting itself, and still survives a kill. */

const seed = buildSeed(new Date('2026-11-23T12:00:00Z'), 50);
const refund = (i: number): TrioRefund => ({ id: `r${i}`, collecting_document_id: `d${i}`, amount_cents: 100 + i, description: 'x', status: 'created', end_to_end_id: null, created_at: '2026-11-23T12:00:00Z', transaction_date: null, seeded: false, delivered: [] });
const note = (ref: string, number: number): FocusNote => ({ ref, status: 'processando_autorizacao', number, series: '1', key: '3'.repeat(44), referenced_key: '', amount_cents: 100, created_at: '2026-11-23T12:00:00Z' });

function change(world: World): void {
  const r = refund(1);
  world.state.trioRefunds.push(r);
  world.put('trioRefunds', r);
  r.status = 'settled';
  r.delivered.push('created', 'settled');
  world.put('trioRefunds', r);
  const n = note('a', 1);
  world.state.focusNotes.push(n);
  world.put('focusNotes', n);
  world.state.focusNotes.splice(0, 1);
  world.removeNote('a');
  const again = { ...note('a', 2), status: 'autorizado' as const };
  world.state.focusNotes.push(again);
  world.put('focusNotes', again);
  const m = { phone: '5511', message: 'oi', messageId: 'm1', zaapId: 'z1', at: '2026-11-23T12:00:00Z' };
  world.state.outbox.push(m);
  world.sent(m);
}

describe('the emulated world on disk', () => {
  it('a change appends one short line instead of rewriting the world, and a restart (kill) replays it', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'estorno-world-')), 'w.json');
    const world = new World(file, seed);
    const snapshot = statSync(file).size;
    change(world);
    // Killed here: no close, no compaction. The snapshot is untouched, the journal holds the changes.
    expect(statSync(file).size).toBe(snapshot);
    expect(statSync(`${file}.log`).size).toBeLessThan(2_000);
    const expected = structuredClone(world.state);
    const restarted = new World(file, buildSeed(new Date(), 0));
    expect(restarted.state).toEqual(expected);
    expect(restarted.state.trioRefunds.at(-1)).toMatchObject({ id: 'r1', status: 'settled', delivered: ['created', 'settled'] });
    expect(restarted.state.focusNotes).toEqual([expect.objectContaining({ ref: 'a', number: 2, status: 'autorizado' })]);
  });

  it('ignores a line torn by a kill in the middle of an append, and keeps appending after the restart', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'estorno-world-')), 'w.json');
    const world = new World(file, seed);
    change(world);
    const expected = structuredClone(world.state);
    appendFileSync(`${file}.log`, '{"n":99,"add":"outbox","v":{"phone":"55');
    const restarted = new World(file, seed);
    expect(restarted.state).toEqual(expected);
    const r = refund(2);
    restarted.state.trioRefunds.push(r);
    restarted.put('trioRefunds', r);
    expect(new World(file, seed).state.trioRefunds.at(-1)?.id).toBe('r2');
  });

  it('folds a long journal into the snapshot; a crash between the two replays nothing twice', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'estorno-world-')), 'w.json');
    const world = new World(file, seed, { compactEvery: 10 });
    for (let i = 0; i < 25; i++) {
      const m = { phone: '5511', message: `m${i}`, messageId: `m${i}`, zaapId: `z${i}`, at: '2026-11-23T12:00:00Z' };
      world.state.outbox.push(m);
      world.sent(m);
    }
    expect(readFileSync(`${file}.log`, 'utf8').trim().split('\n')).toHaveLength(5);
    // The journal as it was just before the last fold, next to the snapshot written by the fold.
    const journalBefore = `${file}.before`;
    copyFileSync(`${file}.log`, journalBefore);
    world.compact();
    copyFileSync(journalBefore, `${file}.log`);
    const restarted = new World(file, seed);
    expect(restarted.state.outbox.map((m) => m.message)).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
  });

  it('a clean close leaves the whole world in the snapshot file alone (what the crash test reads)', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'estorno-world-')), 'w.json');
    const world = new World(file, seed);
    change(world);
    world.compact();
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as { trioRefunds: TrioRefund[]; outbox: unknown[] };
    expect(onDisk.trioRefunds.at(-1)?.status).toBe('settled');
    expect(onDisk.outbox).toHaveLength(1);
    expect(readFileSync(`${file}.log`, 'utf8')).toBe('');
  });
});
