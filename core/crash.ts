/**
 * Deliberate crash points for the crash-safety test: with
 * `ESTORNO_CRASH_POINTS="after_reserve:0.1,after_rail_answer:0.1"` the process
 * kills itself (SIGKILL, no cleanup) at that point with that probability.
 * Unset — always, outside that test — this does nothing.
 */
const points = new Map<string, number>(
  (process.env.ESTORNO_CRASH_POINTS ?? '')
    .split(',')
    .map((p) => p.trim().split(':'))
    .filter((p): p is [string, string] => p.length === 2 && p[0] !== '')
    .map(([name, p]) => [name, Number(p)]),
);

export type CrashPoint = 'after_reserve' | 'after_rail_answer' | 'after_tool_use_stored';

export function crashPoint(name: CrashPoint): void {
  const p = points.get(name);
  if (p !== undefined && Math.random() < p) process.kill(process.pid, 'SIGKILL');
}
