import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobKeys, JobKinds, outboxKeys, parseJob, scheduleJob, templateKey, type Job } from '../../../core/keys.ts';
import { Workers } from '../../../server/workers.ts';
import { testServices } from '../../helpers/services.ts';

/**
 * One module of keys and job kinds (issue 13): the stored formats never change
 * (rows written by an earlier version must still dedupe), every stored job is
 * read back by its kind, and no key or kind is written by hand anywhere else.
 */

describe('keys', () => {
  it('builds the stored formats (rows already in a database keep deduping)', () => {
    expect(outboxKeys.refundDone('rf_1')).toBe('refund_done:rf_1');
    expect(outboxKeys.refundPending('rf_1')).toBe('refund_pending:rf_1');
    expect(outboxKeys.refundFailed('rf_1')).toBe('refund_failed:rf_1');
    expect(outboxKeys.creditNoteFailed('rf_1')).toBe('credit_note_failed:rf_1');
    expect(outboxKeys.refundRequestedElsewhere('rf_1')).toBe('refund_requested_elsewhere:rf_1');
    expect(outboxKeys.approvalDecision('approved', 'apr_1')).toBe('approval_approved:apr_1');
    expect(outboxKeys.approvalDecision('rejected', 'apr_1')).toBe('approval_rejected:apr_1');
    expect(outboxKeys.approvalDecision('failed', 'apr_1')).toBe('approval_failed:apr_1');
    expect(outboxKeys.handoff('cv_1', '2026-11-23T00:00:00.000Z')).toBe('handoff:cv_1:2026-11-23T00:00:00.000Z');
    expect(outboxKeys.identityCode('cv_1', 7)).toBe('identity_code:cv_1:7');
    expect(outboxKeys.identityCodeWrong(7)).toBe('identify_code:7');
    expect(outboxKeys.identityPrompt(7)).toBe('identify:7');
    expect(outboxKeys.agentReply('tn_1', 0)).toBe('reply:tn_1:0');
    expect(outboxKeys.agentReply('tn_1', 2, 'msg_1')).toBe('reply:tn_1:msg_1:2');
    expect(outboxKeys.holding('tn_1')).toBe('holding:tn_1');
    expect(jobKeys.creditNote('rf_1')).toBe('credit_note:rf_1');
    expect(jobKeys.creditNoteRestart('rf_1', 5)).toBe('credit_note:rf_1:restart-5');
    expect(jobKeys.creditNoteRestart('rf_1', 5).startsWith(jobKeys.creditNoteRestarts('rf_1'))).toBe(true);
    expect(jobKeys.reconcile('rf_1', 'start-5')).toBe('reconcile_refund:rf_1:start-5');
    expect(jobKeys.reconcile('rf_1', 'x').startsWith(jobKeys.reconcileSeries('rf_1'))).toBe(true);
    expect(jobKeys.claimCheck('rf_1')).toBe('refund_claim_check:rf_1');
    expect(jobKeys.resumeTurn('tn_1', 5)).toBe('resume_turn:tn_1:5');
    expect(Object.values(JobKinds).sort()).toEqual(['credit_note', 'reconcile_refund', 'refund_claim_check', 'resume_turn']);
  });

  it('gives notify_customer\'s "refund_done" the key of the message the flow queues (the customer gets one)', () => {
    expect(templateKey('refund_done', 'rf_1')).toBe(outboxKeys.refundDone('rf_1'));
    expect(templateKey('refund_pending', 'rf_1')).toBe(outboxKeys.refundPending('rf_1'));
  });
});

describe('job kinds', () => {
  it('reads every kind back with its payload', () => {
    const jobs: Job[] = [
      { kind: JobKinds.reconcileRefund, payload: { refundId: 'rf_1', attempt: 3 } },
      { kind: JobKinds.claimCheck, payload: { refundId: 'rf_1' } },
      { kind: JobKinds.creditNote, payload: { refundId: 'rf_1' } },
      { kind: JobKinds.resumeTurn, payload: { conversationId: 'cv_1', turnId: 'tn_1' } },
    ];
    for (const job of jobs) expect(parseJob(job.kind, JSON.stringify(job.payload))).toEqual(job);
    // Stored before `attempt` was always written: the first attempt.
    expect(parseJob('reconcile_refund', '{"refundId":"rf_1"}')).toEqual({ kind: 'reconcile_refund', payload: { refundId: 'rf_1', attempt: 0 } });
  });

  it('refuses an unknown kind and a payload its kind does not carry', () => {
    expect(() => parseJob('send_money', '{}')).toThrow('unknown job kind send_money');
    expect(() => parseJob('toString', '{}')).toThrow('unknown job kind toString');
    expect(() => parseJob(JobKinds.creditNote, '{"conversationId":"cv_1"}')).toThrow(/job credit_note: bad payload \(refundId/);
    expect(() => parseJob(JobKinds.resumeTurn, '{"conversationId":"cv_1"}')).toThrow(/turnId/);
  });

  it('schedules by kind: the payload is stored as the kind carries it, a used key is not scheduled again', async () => {
    const { store } = await testServices({ seedMandates: false });
    const now = new Date().toISOString();
    const job: Job = { kind: JobKinds.creditNote, payload: { refundId: 'rf_1' } };
    expect(await scheduleJob(store, job, { key: jobKeys.creditNote('rf_1'), runAt: now, now })).toBe(true);
    expect(await scheduleJob(store, job, { key: jobKeys.creditNote('rf_1'), runAt: now, now })).toBe(false);
    const row = await store.jobs.byKey(jobKeys.creditNote('rf_1'));
    expect(row).toMatchObject({ kind: 'credit_note', status: 'pending' });
    expect(parseJob(row!.kind, row!.payload)).toEqual(job);
    await store.close();
  });

  it('the worker gives up a job of an unknown kind or with a bad payload (retried, then dead), and runs a known one', async () => {
    const { services, store } = await testServices({ seedMandates: false });
    const resumed: string[] = [];
    const workers = new Workers(services, (id) => resumed.push(id), { maxAttempts: 1 });
    const now = new Date(Date.now() - 1000).toISOString();
    await store.jobs.schedule('send_money', 'bogus:1', { refundId: 'rf_1' }, now, now);
    await store.jobs.schedule(JobKinds.resumeTurn, 'bogus:2', { turnId: 'tn_1' }, now, now);
    await scheduleJob(store, { kind: JobKinds.resumeTurn, payload: { conversationId: 'cv_1', turnId: 'tn_1' } }, { key: jobKeys.resumeTurn('tn_1', 1), runAt: now, now });
    workers.wake();
    await workers.idle();
    expect(await store.jobs.byKey('bogus:1')).toMatchObject({ status: 'dead', last_error: 'unknown job kind send_money' });
    expect(await store.jobs.byKey('bogus:2')).toMatchObject({ status: 'dead', last_error: expect.stringContaining('bad payload') });
    expect(await store.jobs.byKey(jobKeys.resumeTurn('tn_1', 1))).toMatchObject({ status: 'done' });
    expect(resumed).toEqual(['cv_1']);
    await workers.stop();
    await store.close();
  });
});

// ---------------------------------------------------------------- no key written twice

const ROOT = process.cwd();
const EXCLUDED = new Set(['test', 'node_modules', 'test-artifacts', 'docs']);
const KEYS_MODULE = path.join('core', 'keys.ts');

function sourceFiles(dir = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (e.name.startsWith('.') || (dir === '' && EXCLUDED.has(e.name))) continue;
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

const KEY_PREFIXES = [
  'refund_done', 'refund_pending', 'refund_failed', 'credit_note_failed', 'refund_requested_elsewhere', 'approval_approved', 'approval_rejected',
  'approval_failed', 'handoff', 'identity_code', 'identify_code', 'identify', 'reply', 'holding', 'credit_note', 'reconcile_refund',
  'refund_claim_check', 'resume_turn',
];

/** What may not be written outside its one home: [rule, pattern, the files allowed to hold it]. */
const RULES: Array<[string, RegExp, string[]]> = [
  // A string (quoted or template) that starts with a key prefix and a colon: a key built by hand.
  ['a dedupe or job key built by hand', new RegExp(`[\`'"](?:${KEY_PREFIXES.join('|')}):`), [KEYS_MODULE]],
  // A dedupe key written in place (the approvals' old `${key}:${approvalId}` too) instead of asked from the module.
  ['a dedupe key written in place', /dedupe_key:\s*[`'"]/, [KEYS_MODULE]],
  // In code and in SQL (`WHERE kind = 'resume_turn'`).
  ['a job kind written as a bare string', /[`'"](?:reconcile_refund|refund_claim_check|resume_turn)[`'"]/, [KEYS_MODULE]],
  ['a job scheduled around scheduleJob', /\.jobs\.schedule\(/, [KEYS_MODULE]],
  ['the job kind constants of before', /\bJOB_(?:RECONCILE|CREDIT_NOTE|CLAIM_CHECK)\b/, [KEYS_MODULE]],
  ['the agent id written by hand', /['"`]support-agent['"`]/, [path.join('refunds', 'mandate.ts')]],
  ['a refund window written in words', /\b90[ -](?:dias|days)\b/, []],
  // bench/ builds synthetic receipts record by record to time their verification.
  ['a case record appended outside the case lifecycle', /\b(?:appendCaseRecord|sealCase)\(/, [path.join('refunds', 'cases.ts'), path.join('bench', 'run.ts')]],
  ['the outbox sender deciding by a template name', /\brow\.template\s*===/, [path.join('refunds', 'cases.ts')]],
  // Holding ("open") refunds: HOLDING_STATUSES and what derives from it (the CHECK constraints list every status).
  ['"open" refunds defined again', /status != 'failed'|\['reserved', 'pending', 'unknown', 'settled'\]/, [path.join('data', 'refunds.ts')]],
];

/** Every `file:line: text` breaking a rule, outside the file allowed to hold it. */
function violations(files: Array<{ file: string; text: string }>): string[] {
  const out: string[] = [];
  for (const { file, text } of files) {
    text.split('\n').forEach((line, i) => {
      if (/^\s*(?:\/\/|\*|\/\*)/.test(line)) return; // comments may name a key
      for (const [rule, pattern, homes] of RULES) if (!homes.includes(file) && pattern.test(line)) out.push(`${file}:${i + 1}: ${rule}: ${line.trim()}`);
    });
  }
  return out;
}

describe('no string key or job kind written twice', () => {
  it('finds no key, job kind, agent id, window or "open" definition outside its one home', () => {
    const files = sourceFiles().map((file) => ({ file, text: readFileSync(path.join(ROOT, file), 'utf8') }));
    expect(files.map((f) => f.file)).toContain(KEYS_MODULE);
    expect(files.map((f) => f.file)).toContain(path.join('server', 'workers.ts'));
    expect(violations(files)).toEqual([]);
  });

  it('fails on each old pattern', () => {
    const old = [
      "dedupe_key: `refund_done:${refund.id}`,",
      "await store.jobs.byKey(`credit_note:${refund.id}`);",
      "case 'resume_turn':",
      "await store.jobs.schedule(kind, key, payload, now, now);",
      "dedupe_key: `${key}:${approvalId}`,",
      "{ id: 'support-agent', mandateId }",
      "'The Pix refund window (90 days after payment) has passed.'",
      "await appendCaseRecord(store, caseId, 'notification', {}, at);",
      "await sql.run(\"UPDATE jobs SET status = 'done' WHERE kind = 'resume_turn'\");",
      "if (row.template === 'refund_done' && row.case_id) {",
      "SELECT SUM(amount_cents) FROM refunds WHERE status != 'failed'",
      'import { JOB_CREDIT_NOTE } from "../refunds/refund-flow.ts";',
    ];
    for (const line of old) expect(violations([{ file: path.join('server', 'x.ts'), text: line }]).length, line).toBeGreaterThan(0);
    expect(violations([{ file: KEYS_MODULE, text: 'refundDone: (id: string) => `refund_done:${id}`,' }])).toEqual([]);
  });
});
