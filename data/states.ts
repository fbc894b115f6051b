/**
 * Every status column that moves, as a closed state machine: the legal moves
 * are a table checked by the type system (a move's target must be listed for
 * its source) and at run time, updates are compare-and-set on the source state
 * and check the row count, and a state read back from storage that the
 * machine does not know raises instead of being treated as harmless.
 */

/** The legal moves of one status column: for each state, the states it may move to. */
export type Moves<S extends string> = { readonly [K in S]: readonly S[] };

export interface Machine<S extends string> {
  readonly name: string;
  readonly moves: Moves<S>;
  readonly states: readonly S[];
}

function machine<S extends string>(name: string, moves: Moves<S>): Machine<S> {
  return { name, moves, states: Object.keys(moves) as S[] };
}

/** A move the machine does not allow (a bug, or an event that contradicts what we know). */
export class IllegalTransition extends Error {
  readonly machine: string;
  readonly from: string;
  readonly to: string;
  constructor(machine: string, from: string, to: string, subject?: string) {
    super(`${machine}${subject ? ` ${subject}` : ''}: ${from} → ${to} is not a legal move`);
    this.name = 'IllegalTransition';
    this.machine = machine;
    this.from = from;
    this.to = to;
  }
}

/** A status read from storage that its machine does not know: the row was written by something else. */
export class UnknownState extends Error {
  readonly machine: string;
  constructor(machine: string, value: unknown, subject?: string) {
    super(`${machine}${subject ? ` ${subject}` : ''}: unknown state ${JSON.stringify(value)} in storage`);
    this.name = 'UnknownState';
    this.machine = machine;
  }
}

/** Checks a state read from storage. */
export function stateOf<S extends string>(m: Machine<S>, value: unknown, subject?: string): S {
  if (typeof value !== 'string' || !(m.states as readonly string[]).includes(value)) throw new UnknownState(m.name, value, subject);
  return value as S;
}

/** Checks every row's status as it comes back from storage; rows pass through unchanged. */
export function checked<S extends string, R extends { status: S } | undefined>(m: Machine<S>, row: R): R {
  if (row) stateOf(m, row.status, (row as { id?: unknown }).id === undefined ? undefined : String((row as { id?: unknown }).id));
  return row;
}

export function canMove<S extends string>(m: Machine<S>, from: S, to: S): boolean {
  return m.moves[from].includes(to);
}

export function assertMove<S extends string>(m: Machine<S>, from: S, to: S, subject?: string): void {
  if (!canMove(m, from, to)) throw new IllegalTransition(m.name, from, to, subject);
}

/** The SQL list of a set of states, e.g. `('reserved', 'submitting')` — from the machine, never typed by hand. */
export function sqlList<S extends string>(states: readonly S[]): string {
  return `(${states.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ')})`;
}

// --- Refunds (invariant 6: one rail call per refund) ---

export type RefundStatus = 'reserved' | 'submitting' | 'pending' | 'unknown' | 'settled' | 'failed';

/**
 * reserved → submitting: the one rail call is claimed, with a lease, before it is made.
 * submitting → pending|settled|failed: the rail answered; → unknown: it did not (or the
 *   lease ran out and the rail does not show it): never sent again on a rail without keys.
 * unknown → pending|settled|failed: reconciliation (or staff) learned the truth.
 * pending → settled|failed: the rail's webhook. reserved → failed: refused before the call.
 */
export const REFUND = machine<RefundStatus>('refund', {
  reserved: ['submitting', 'failed'],
  submitting: ['pending', 'settled', 'failed', 'unknown'],
  unknown: ['pending', 'settled', 'failed'],
  pending: ['settled', 'failed'],
  settled: [],
  failed: [],
});

/** Statuses that hold money against the payment and the mandate (all but failed). */
export const HOLDING_REFUND_STATUSES: readonly RefundStatus[] = ['reserved', 'submitting', 'pending', 'unknown', 'settled'];

// --- Approvals ---

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'failed';

/** pending → failed: approved by staff but refused by the guard when executed. approved → pending: claimed by a process that died before reserving its refund (released at start). */
export const APPROVAL = machine<ApprovalStatus>('approval', {
  pending: ['approved', 'rejected', 'expired', 'failed'],
  approved: ['pending', 'failed'],
  rejected: [],
  expired: [],
  failed: [],
});

// --- Cases (receipts) ---

export type CaseStatus = 'open' | 'sealed' | 'failed';

export const CASE = machine<CaseStatus>('case', {
  open: ['sealed', 'failed'],
  sealed: [],
  failed: [],
});

// --- Conversations ---

export type ConversationState = 'agent' | 'waiting_for_staff' | 'with_staff' | 'closed';

export const CONVERSATION = machine<ConversationState>('conversation', {
  agent: ['waiting_for_staff', 'with_staff', 'closed'],
  waiting_for_staff: ['with_staff', 'agent', 'closed'],
  with_staff: ['agent', 'closed'],
  closed: ['agent', 'waiting_for_staff', 'with_staff'],
});

// --- Jobs and the outbox (retried with backoff; pending → pending is a retry) ---

export type JobStatus = 'pending' | 'done' | 'dead';

export const JOB = machine<JobStatus>('job', {
  pending: ['pending', 'done', 'dead'],
  done: [],
  dead: [],
});

export type OutboxStatus = 'pending' | 'sent' | 'dead';

export const OUTBOX = machine<OutboxStatus>('outbox', {
  pending: ['pending', 'sent', 'dead'],
  sent: [],
  dead: [],
});
