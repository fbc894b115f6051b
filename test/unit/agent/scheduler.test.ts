import { afterEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { TurnScheduler, turnDebounceMs } from '../../../agent/scheduler.ts';
import { parseConfig } from '../../../core/config.ts';

/** One answer per burst (defect 8): the debounce makes a burst one turn, in a fixed order, whatever the timing inside it. */
describe('the turn scheduler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one turn for a burst that arrives within the debounce window, after the last message', async () => {
    vi.useFakeTimers();
    const runs: string[] = [];
    const scheduler = new TurnScheduler(async (id) => void runs.push(id), { debounceMs: 1500, concurrency: 4, logger: pino({ level: 'silent' }) });
    scheduler.schedule('cv_a');
    await vi.advanceTimersByTimeAsync(1000);
    scheduler.schedule('cv_a');
    await vi.advanceTimersByTimeAsync(1000);
    scheduler.schedule('cv_a');
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1500);
    expect(runs).toEqual(['cv_a']);
  });

  it('runs a message that arrives during a turn after that turn, never beside it', async () => {
    vi.useFakeTimers();
    const events: string[] = [];
    let release: () => void = () => {};
    const scheduler = new TurnScheduler(
      async (id) => {
        events.push(`start ${id}`);
        if (events.length === 1) await new Promise<void>((r) => (release = r));
        events.push(`end ${id}`);
      },
      { debounceMs: 100, concurrency: 4, logger: pino({ level: 'silent' }) },
    );
    scheduler.schedule('cv_a');
    await vi.advanceTimersByTimeAsync(100);
    scheduler.schedule('cv_a');
    scheduler.schedule('cv_a');
    release();
    await vi.advanceTimersByTimeAsync(0);
    await scheduler.idle();
    expect(events).toEqual(['start cv_a', 'end cv_a', 'start cv_a', 'end cv_a']);
  });

  it('a turn that crashes is tried once more; a second crash in a row queues a person instead of leaving silence', async () => {
    vi.useFakeTimers();
    let runs = 0;
    const queued: string[] = [];
    const scheduler = new TurnScheduler(
      async () => {
        runs++;
        throw new Error('a bug in the turn');
      },
      { debounceMs: 0, concurrency: 4, logger: pino({ level: 'silent' }), onRepeatedCrash: async (id) => void queued.push(id) },
    );
    scheduler.schedule('cv_a');
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    expect(queued).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(runs).toBe(2);
    expect(queued).toEqual(['cv_a']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toBe(2);
  });

  it('a message marked while a turn gives its lease back still gets its own turn', async () => {
    const runs: string[] = [];
    let releaseLease: () => void = () => {};
    const scheduler = new TurnScheduler(async (id) => void runs.push(id), {
      debounceMs: 0,
      concurrency: 4,
      logger: pino({ level: 'silent' }),
      lease: { leaseMs: 30_000, retryMs: 1_000, claim: async () => true, renew: async () => true, release: () => new Promise<void>((r) => (releaseLease = r)) },
    });
    scheduler.schedule('cv_a');
    await new Promise((r) => setTimeout(r, 10));
    // The turn ran and is now giving its lease back: a new message arrives meanwhile.
    scheduler.schedule('cv_a');
    releaseLease();
    await new Promise((r) => setTimeout(r, 10));
    releaseLease();
    await scheduler.idle();
    expect(runs).toEqual(['cv_a', 'cv_a']);
  });
});

describe('the debounce default', () => {
  it('is on in production and configurable', () => {
    expect(turnDebounceMs(parseConfig({ NODE_ENV: 'production' }).env)).toBe(1500);
    expect(turnDebounceMs(parseConfig({ NODE_ENV: 'production', TURN_DEBOUNCE_MS: '400' }).env)).toBe(400);
    expect(turnDebounceMs(parseConfig({ NODE_ENV: 'test' }).env)).toBe(0);
  });
});
