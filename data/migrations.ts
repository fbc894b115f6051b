/**
 * Schema migrations, applied in order at start, each in its own transaction.
 * Append new ones; never edit one that has shipped.
 */
/** `foreignKeysOff`: a table rebuild (SQLite's documented procedure: foreign keys off around the transaction, checked before commit). */
export const MIGRATIONS: Array<{ version: number; name: string; sql: string; foreignKeysOff?: boolean }> = [
  {
    version: 1,
    name: 'core',
    sql: `
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  chat_id TEXT NOT NULL UNIQUE,          -- what Z-API calls "phone": digits, or an @lid id
  phone TEXT,                            -- normalised number when the chat has one
  customer_code INTEGER,                 -- ERP customer bound by CPF (for @lid chats)
  mode TEXT NOT NULL DEFAULT 'agent' CHECK (mode IN ('agent', 'staff')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Every Z-API event we accepted, deduplicated by messageId; text messages wait
-- here until a turn processes them (processed_at), across restarts.
CREATE TABLE inbox (
  id INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL UNIQUE,
  conversation_id TEXT REFERENCES conversations(id),
  kind TEXT NOT NULL CHECK (kind IN ('text', 'ignored')),
  ignore_reason TEXT,
  text TEXT,
  payload TEXT NOT NULL,
  received_at TEXT NOT NULL,
  processed_at TEXT,
  turn_id TEXT
);
CREATE INDEX inbox_pending ON inbox (conversation_id, id) WHERE kind = 'text' AND processed_at IS NULL;

CREATE TABLE turns (
  id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'parked')),
  iterations INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT
);
CREATE INDEX turns_by_conversation ON turns (conversation_id, started_at);

-- The model's view of a conversation, in Messages API shape, appended as it happens.
CREATE TABLE history (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  turn_id TEXT,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX history_by_conversation ON history (conversation_id, id);

CREATE TABLE model_calls (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  model TEXT NOT NULL,
  request_id TEXT,
  message_id TEXT,
  stop_reason TEXT,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cache_read_tokens INTEGER,
  cache_creation_tokens INTEGER,
  prefix_hash TEXT NOT NULL,
  latency_ms INTEGER NOT NULL,
  error TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX model_calls_by_turn ON model_calls (turn_id);

CREATE TABLE tool_calls (
  id INTEGER PRIMARY KEY,
  tool_use_id TEXT NOT NULL UNIQUE,
  conversation_id TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  name TEXT NOT NULL,
  input TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('started', 'done')),
  outcome TEXT CHECK (outcome IN ('ok', 'refused', 'error')),
  reason TEXT,
  result TEXT,
  created_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX tool_calls_by_conversation ON tool_calls (conversation_id, id);

-- Messages to customers: kept until Z-API accepted them, retried with backoff.
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  chat_id TEXT NOT NULL,
  text TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('agent', 'template', 'staff', 'system')),
  template TEXT,
  case_id TEXT,
  dedupe_key TEXT UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  last_error TEXT,
  provider_message_id TEXT,
  created_at TEXT NOT NULL,
  sent_at TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';

-- Original payments as verified with the ERP and the rail.
CREATE TABLE payments (
  id TEXT PRIMARY KEY,
  rail TEXT NOT NULL,
  document_id TEXT NOT NULL,
  end_to_end_id TEXT NOT NULL,
  order_number TEXT NOT NULL,
  customer_code INTEGER NOT NULL,
  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
  external_refunded_cents INTEGER NOT NULL DEFAULT 0 CHECK (external_refunded_cents >= 0),
  paid_at TEXT NOT NULL,
  verified_at TEXT NOT NULL,
  UNIQUE (rail, document_id)
);

-- Signed spend mandates; each change of caps is a new version (old ones stay).
CREATE TABLE mandates (
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  agent_id TEXT NOT NULL,
  document TEXT NOT NULL,
  signature TEXT NOT NULL,
  key_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (id, version)
);
-- Status changes (pause, resume, revoke) as events; the newest wins.
CREATE TABLE mandate_events (
  id INTEGER PRIMARY KEY,
  mandate_id TEXT NOT NULL,
  status TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX mandate_events_by_mandate ON mandate_events (mandate_id, id);

CREATE TABLE refunds (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  payment_id TEXT NOT NULL REFERENCES payments(id),
  order_number TEXT NOT NULL,
  conversation_id TEXT,
  case_id TEXT,
  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
  reason TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('reserved', 'pending', 'unknown', 'settled', 'failed')),
  mandate_id TEXT NOT NULL,
  mandate_version INTEGER NOT NULL,
  authorized_by TEXT NOT NULL,
  approval_id TEXT,
  rail TEXT NOT NULL,
  rail_refund_id TEXT,
  end_to_end_id TEXT,
  failure_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  settled_at TEXT
);
CREATE INDEX refunds_by_payment ON refunds (payment_id);
CREATE INDEX refunds_by_mandate ON refunds (mandate_id, created_at);
CREATE INDEX refunds_open ON refunds (status) WHERE status IN ('reserved', 'pending', 'unknown');

CREATE TABLE refund_events (
  id INTEGER PRIMARY KEY,
  refund_id TEXT NOT NULL REFERENCES refunds(id),
  from_status TEXT,
  to_status TEXT NOT NULL,
  source TEXT NOT NULL,
  detail TEXT,
  created_at TEXT NOT NULL
);

-- Every decision of the guard, allowed or refused, with its machine-readable reason.
CREATE TABLE guard_decisions (
  id INTEGER PRIMARY KEY,
  tool_use_id TEXT,
  conversation_id TEXT,
  actor TEXT NOT NULL,
  order_number TEXT,
  amount_cents INTEGER,
  decision TEXT NOT NULL CHECK (decision IN ('allowed', 'refused', 'approval_required')),
  reason TEXT,
  detail TEXT NOT NULL,
  mandate_id TEXT,
  mandate_version INTEGER,
  refund_id TEXT,
  approval_id TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX guard_decisions_by_conversation ON guard_decisions (conversation_id, id);

CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  order_number TEXT NOT NULL,
  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
  reason TEXT NOT NULL,
  proposal_hash TEXT NOT NULL,
  guard_reason TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'failed')),
  requested_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  decision_reason TEXT,
  refund_id TEXT
);

CREATE TABLE credit_notes (
  id INTEGER PRIMARY KEY,
  refund_id TEXT NOT NULL UNIQUE REFERENCES refunds(id),
  ref TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('requested', 'processing', 'authorized', 'rejected', 'denied')),
  number TEXT,
  series TEXT,
  access_key TEXT,
  message TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- A case: one complaint that led to a refund, with its receipt id (rcp_…).
CREATE TABLE cases (
  id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  order_number TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'sealed', 'failed')),
  created_at TEXT NOT NULL
);

-- The case's hash chain: append-only (triggers below).
CREATE TABLE case_records (
  case_id TEXT NOT NULL REFERENCES cases(id),
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (case_id, seq)
);
CREATE TRIGGER case_records_no_update BEFORE UPDATE ON case_records
BEGIN SELECT RAISE(ABORT, 'case_records are append-only'); END;
CREATE TRIGGER case_records_no_delete BEFORE DELETE ON case_records
BEGIN SELECT RAISE(ABORT, 'case_records are append-only'); END;

-- The seal: an Ed25519 signature over the chain head; one per case, final.
CREATE TABLE case_seals (
  case_id TEXT PRIMARY KEY REFERENCES cases(id),
  outcome TEXT NOT NULL CHECK (outcome IN ('settled', 'failed')),
  head_seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  signature TEXT NOT NULL,
  key_id TEXT NOT NULL,
  sealed_at TEXT NOT NULL
);
CREATE TRIGGER case_seals_no_update BEFORE UPDATE ON case_seals
BEGIN SELECT RAISE(ABORT, 'case_seals are append-only'); END;
CREATE TRIGGER case_seals_no_delete BEFORE DELETE ON case_seals
BEGIN SELECT RAISE(ABORT, 'case_seals are append-only'); END;

-- Durable background work (credit notes, reconciliation, notifications), retried with backoff.
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  key TEXT NOT NULL UNIQUE,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  run_at TEXT NOT NULL,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE status = 'pending';

-- Rail webhooks seen, so that a replay changes nothing.
CREATE TABLE webhook_events (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  event_key TEXT NOT NULL UNIQUE,
  payload TEXT NOT NULL,
  outcome TEXT NOT NULL,
  received_at TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'console',
    sql: `
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
  password_hash TEXT NOT NULL,          -- scrypt$N$r$p$salt$hash (base64)
  active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,             -- SHA-256 of the cookie value; the value itself is never stored
  user_id INTEGER NOT NULL REFERENCES users(id),
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

-- The system prompt as versions: the newest is used from the next turn; a rollback is a new version.
CREATE TABLE prompt_versions (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL DEFAULT 'system',
  text TEXT NOT NULL,
  author TEXT NOT NULL,
  note TEXT,
  created_at TEXT NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'tool_call_attempts',
    sql: `ALTER TABLE tool_calls ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 4,
    name: 'conversation_lid',
    // WhatsApp's Linked ID (\`...@lid\`) beside the phone: one customer, one conversation, whichever arrives.
    sql: `ALTER TABLE conversations ADD COLUMN lid TEXT;
CREATE UNIQUE INDEX conversations_lid ON conversations (lid) WHERE lid IS NOT NULL;
CREATE INDEX conversations_phone ON conversations (phone);`,
  },
  // Versions 20+ belong to the money-path hardening (issue "Money that cannot move twice").
  {
    version: 20,
    name: 'money_cannot_move_twice',
    sql: `
-- Written (committed) just before a refund's rail call: a reserved refund without it never reached the rail.
ALTER TABLE refunds ADD COLUMN submitted_at TEXT;
-- Set when an unknown outcome outlived the reconciliation window: staff decide from then on.
ALTER TABLE refunds ADD COLUMN review_requested_at TEXT;

-- Tool calls are scoped to their conversation: a tool_use id seen in another chat is another call.
CREATE TABLE tool_calls_scoped (
  id INTEGER PRIMARY KEY,
  tool_use_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  name TEXT NOT NULL,
  input TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('started', 'done')),
  outcome TEXT CHECK (outcome IN ('ok', 'refused', 'error')),
  reason TEXT,
  result TEXT,
  created_at TEXT NOT NULL,
  finished_at TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  UNIQUE (conversation_id, tool_use_id)
);
INSERT INTO tool_calls_scoped SELECT id, tool_use_id, conversation_id, turn_id, name, input, status, outcome, reason, result, created_at, finished_at, attempts FROM tool_calls;
DROP TABLE tool_calls;
ALTER TABLE tool_calls_scoped RENAME TO tool_calls;
CREATE INDEX tool_calls_by_conversation ON tool_calls (conversation_id, id);
CREATE INDEX guard_decisions_by_tool_use ON guard_decisions (conversation_id, tool_use_id);

-- Binding an @lid chat to an ERP customer needs proof: a code sent to the WhatsApp number on file.
CREATE TABLE chat_identity_challenges (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  customer_code INTEGER NOT NULL,
  phone_on_file TEXT NOT NULL,
  code_hash TEXT NOT NULL,              -- SHA-256 of conversation id + code; the code itself is never stored
  attempts INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('open', 'verified', 'expired', 'locked')),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  verified_at TEXT
);
CREATE INDEX chat_identity_by_conversation ON chat_identity_challenges (conversation_id, id);
-- Every identification attempt (a CPF asked for, a code typed), counted before any lookup.
CREATE TABLE chat_identity_attempts (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('cpf', 'code')),
  created_at TEXT NOT NULL
);
CREATE INDEX chat_identity_attempts_by_conversation ON chat_identity_attempts (conversation_id, created_at);
`,
  },
  {
    version: 5,
    name: 'conversation_states_and_media',
    sql: `
-- The conversation's state machine (agent/conversation-state.ts); mode stays as its
-- two-valued shadow ('staff' while waiting for or with staff) for older readers.
ALTER TABLE conversations ADD COLUMN state TEXT NOT NULL DEFAULT 'agent'
  CHECK (state IN ('agent', 'waiting_for_staff', 'with_staff', 'closed'));
ALTER TABLE conversations ADD COLUMN handoff_reason TEXT;
ALTER TABLE conversations ADD COLUMN waiting_since TEXT;
UPDATE conversations SET state = 'with_staff' WHERE mode = 'staff';

-- A media message's descriptor (kind, url, mime type, file name, seconds…) as JSON.
ALTER TABLE inbox ADD COLUMN media TEXT;

-- Staff notes on a conversation: internal, never sent to the customer, read by the model after a hand back.
CREATE TABLE conversation_notes (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX conversation_notes_by_conversation ON conversation_notes (conversation_id, id);

-- Results of \`npm run eval\` per prompt text (its SHA-256), shown beside each prompt version.
CREATE TABLE eval_runs (
  id INTEGER PRIMARY KEY,
  prompt_sha256 TEXT NOT NULL,
  prompt_label TEXT NOT NULL,
  model TEXT NOT NULL,
  k INTEGER NOT NULL,
  scenarios INTEGER NOT NULL,
  passed_all INTEGER NOT NULL,
  pass_k REAL NOT NULL,
  pass_1 REAL NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX eval_runs_by_prompt ON eval_runs (prompt_sha256, id);
`,
  },
  {
    version: 40,
    name: 'console_inbox',
    sql: `
-- The console's inbox (issue 14): who holds a conversation, the customer's name as
-- the ERP gave it (cached, so the list never waits on the ERP), and the time of
-- its last message in or out, kept by triggers so the list sorts on an index.
ALTER TABLE conversations ADD COLUMN assignee_id INTEGER REFERENCES users(id);
ALTER TABLE conversations ADD COLUMN customer_name TEXT;
ALTER TABLE conversations ADD COLUMN customer_name_key TEXT;      -- lowercase, no accents: what search compares
ALTER TABLE conversations ADD COLUMN customer_name_checked_at TEXT;
ALTER TABLE conversations ADD COLUMN activity_at TEXT;
UPDATE conversations SET activity_at = MAX(
  COALESCE((SELECT MAX(i.received_at) FROM inbox i WHERE i.conversation_id = conversations.id AND i.kind = 'text'), ''),
  COALESCE((SELECT MAX(o.created_at) FROM outbox o WHERE o.conversation_id = conversations.id), ''),
  created_at);
CREATE TRIGGER conversations_activity_start AFTER INSERT ON conversations WHEN new.activity_at IS NULL
BEGIN UPDATE conversations SET activity_at = new.created_at WHERE id = new.id; END;
CREATE TRIGGER inbox_activity AFTER INSERT ON inbox WHEN new.kind = 'text' AND new.conversation_id IS NOT NULL
BEGIN UPDATE conversations SET activity_at = new.received_at WHERE id = new.conversation_id AND (activity_at IS NULL OR activity_at < new.received_at); END;
CREATE TRIGGER outbox_activity AFTER INSERT ON outbox
BEGIN UPDATE conversations SET activity_at = new.created_at WHERE id = new.conversation_id AND (activity_at IS NULL OR activity_at < new.created_at); END;

CREATE INDEX conversations_queue ON conversations (state, waiting_since, id);
CREATE INDEX conversations_by_activity ON conversations (activity_at, id);
CREATE INDEX conversations_by_assignee ON conversations (assignee_id, activity_at);
CREATE INDEX conversations_by_customer ON conversations (customer_code);
CREATE INDEX IF NOT EXISTS inbox_by_conversation ON inbox (conversation_id, id);
CREATE INDEX IF NOT EXISTS outbox_by_conversation ON outbox (conversation_id, id);
CREATE INDEX IF NOT EXISTS refunds_by_conversation ON refunds (conversation_id, created_at);
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (order_number);
CREATE INDEX IF NOT EXISTS approvals_by_conversation ON approvals (conversation_id, requested_at);
CREATE INDEX IF NOT EXISTS approvals_by_order ON approvals (order_number);
CREATE INDEX IF NOT EXISTS cases_by_conversation ON cases (conversation_id);
CREATE INDEX IF NOT EXISTS cases_by_order ON cases (order_number);
CREATE INDEX IF NOT EXISTS payments_by_customer ON payments (customer_code);
CREATE INDEX tool_calls_by_order ON tool_calls (json_extract(input, '$.order_id'));

-- Who sent a staff message (the console shows it on every one).
ALTER TABLE outbox ADD COLUMN sent_by TEXT;

-- How far each console user has read each conversation (unread counts).
CREATE TABLE conversation_reads (
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  user_id INTEGER NOT NULL REFERENCES users(id),
  last_inbox_id INTEGER NOT NULL,
  read_at TEXT NOT NULL,
  PRIMARY KEY (conversation_id, user_id)
);

-- Every change of a conversation's state, for the waiting-time and handoff charts.
CREATE TABLE conversation_state_events (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT,
  at TEXT NOT NULL
);
CREATE INDEX conversation_state_events_by_conversation ON conversation_state_events (conversation_id, id);
CREATE INDEX conversation_state_events_by_time ON conversation_state_events (at);
CREATE TRIGGER conversation_state_log AFTER UPDATE OF state ON conversations WHEN old.state IS NOT new.state
BEGIN INSERT INTO conversation_state_events (conversation_id, from_state, to_state, reason, at) VALUES (new.id, old.state, new.state, new.handoff_reason, new.updated_at); END;

-- Customer messages searchable by word and number (an order number the customer typed).
CREATE VIRTUAL TABLE inbox_text_fts USING fts5(text, content='inbox', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
INSERT INTO inbox_text_fts (rowid, text) SELECT id, text FROM inbox WHERE kind = 'text' AND text IS NOT NULL;
CREATE TRIGGER inbox_text_fts_insert AFTER INSERT ON inbox WHEN new.kind = 'text' AND new.text IS NOT NULL
BEGIN INSERT INTO inbox_text_fts (rowid, text) VALUES (new.id, new.text); END;

-- Canned replies in pt-BR, managed by admins; {primeiro_nome}, {nome}, {pedido} and {atendente} are filled per conversation.
CREATE TABLE canned_replies (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  archived INTEGER NOT NULL DEFAULT 0
);
INSERT INTO canned_replies (title, body, created_by, created_at, updated_at) VALUES
  ('Saudação', 'Olá, {primeiro_nome}! Aqui é {atendente}, da equipe de atendimento. Já estou vendo a sua conversa.', 'system', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
  ('Pedido em análise', '{primeiro_nome}, estou analisando o pedido {pedido} e te retorno em instantes.', 'system', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
  ('Cartão de crédito', '{primeiro_nome}, o pedido {pedido} foi pago com cartão: o estorno é feito pela operadora e pode levar até duas faturas para aparecer.', 'system', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
  ('Encerramento', 'Obrigado pelo contato, {primeiro_nome}! Se precisar de algo mais, é só responder aqui.', 'system', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
`,
  },
  {
    version: 60,
    name: 'tool_calls_by_order_portable',
    // The console's order search now reads `CAST(input ->> 'order_id' AS TEXT)`, the form PostgreSQL speaks
    // too; SQLite uses an index only on that exact expression. Same name as before (and as on PostgreSQL).
    sql: `DROP INDEX tool_calls_by_order;
CREATE INDEX tool_calls_by_order ON tool_calls (CAST(input ->> 'order_id' AS TEXT));`,
  },
  {
    version: 70,
    name: 'refund_submitting_and_leases',
    foreignKeysOff: true,
    // Replicas (issue 16): a refund's one rail call is owned by an explicit
    // `submitting` state with a lease; jobs, outbox rows and conversation turns
    // are claimed with leases, so a dead process's work is picked up when its
    // lease runs out, and never while it is alive.
    sql: `
CREATE TABLE refunds_new (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  payment_id TEXT NOT NULL REFERENCES payments(id),
  order_number TEXT NOT NULL,
  conversation_id TEXT,
  case_id TEXT,
  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
  reason TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('reserved', 'submitting', 'pending', 'unknown', 'settled', 'failed')),
  mandate_id TEXT NOT NULL,
  mandate_version INTEGER NOT NULL,
  authorized_by TEXT NOT NULL,
  approval_id TEXT,
  rail TEXT NOT NULL,
  rail_refund_id TEXT,
  end_to_end_id TEXT,
  failure_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  settled_at TEXT,
  submitted_at TEXT,
  review_requested_at TEXT,
  lease_until TEXT,
  lease_owner TEXT
);
INSERT INTO refunds_new (id, idempotency_key, payment_id, order_number, conversation_id, case_id, amount_cents, reason, status,
  mandate_id, mandate_version, authorized_by, approval_id, rail, rail_refund_id, end_to_end_id, failure_reason, created_at, updated_at,
  settled_at, submitted_at, review_requested_at, lease_until, lease_owner)
SELECT id, idempotency_key, payment_id, order_number, conversation_id, case_id, amount_cents, reason,
  CASE WHEN status = 'reserved' AND submitted_at IS NOT NULL THEN 'submitting' ELSE status END,
  mandate_id, mandate_version, authorized_by, approval_id, rail, rail_refund_id, end_to_end_id, failure_reason, created_at, updated_at,
  settled_at, submitted_at, review_requested_at,
  CASE WHEN status = 'reserved' AND submitted_at IS NOT NULL THEN submitted_at ELSE NULL END, NULL
FROM refunds;
DROP TABLE refunds;
ALTER TABLE refunds_new RENAME TO refunds;
CREATE INDEX refunds_by_payment ON refunds (payment_id);
CREATE INDEX refunds_by_mandate ON refunds (mandate_id, created_at);
CREATE INDEX refunds_open ON refunds (status) WHERE status IN ('reserved', 'submitting', 'pending', 'unknown');
CREATE INDEX refunds_by_conversation ON refunds (conversation_id, created_at);
CREATE INDEX refunds_by_order ON refunds (order_number);

ALTER TABLE jobs ADD COLUMN lease_until TEXT;
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE conversations ADD COLUMN turn_lease_until TEXT;
ALTER TABLE conversations ADD COLUMN turn_lease_owner TEXT;

-- One pending approval per proposal, by an index (replicas proposing the same refund at once).
UPDATE approvals SET status = 'expired'
 WHERE status = 'pending' AND id NOT IN (SELECT MIN(id) FROM approvals WHERE status = 'pending' GROUP BY proposal_hash);
CREATE UNIQUE INDEX approvals_one_pending_per_proposal ON approvals (proposal_hash) WHERE status = 'pending';
`,
  },
  {
    version: 80,
    name: 'sandbox_secrets_rate_events_provider_cache',
    // Replicas (issue 16): the sandbox's generated secrets (webhook token, console
    // passwords, signing keys) are read by every process from the database (used on
    // PostgreSQL); the login throttle and the model-call budget count in rate_events,
    // so every process sees every attempt and every call; provider_cache shares Omie's
    // answers (Omie refuses an id asked again by anyone within 60 s).
    sql: `
CREATE TABLE sandbox_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE rate_events (
  id INTEGER PRIMARY KEY,
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX rate_events_by_key ON rate_events (scope, key, at_ms);
CREATE INDEX rate_events_by_age ON rate_events (scope, at_ms);
CREATE TABLE provider_cache (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  fetched_at_ms INTEGER NOT NULL
);
CREATE INDEX provider_cache_by_age ON provider_cache (fetched_at_ms);
`,
  },
];
