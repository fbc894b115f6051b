import type { Db } from './db.ts';

/** Turns, the model's history, and every model and tool call of a turn. */

export interface HistoryRow {
  id: number;
  conversation_id: string;
  turn_id: string | null;
  role: 'user' | 'assistant';
  content: string;
  created_at: string;
}

export interface ModelCallRow {
  conversation_id: string;
  turn_id: string;
  model: string;
  request_id: string | null;
  message_id: string | null;
  stop_reason: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_creation_tokens: number | null;
  prefix_hash: string;
  latency_ms: number;
  error: string | null;
  created_at: string;
}

export interface ToolCallRow {
  id: number;
  tool_use_id: string;
  conversation_id: string;
  turn_id: string;
  name: string;
  input: string;
  status: 'started' | 'done';
  outcome: 'ok' | 'refused' | 'error' | null;
  reason: string | null;
  result: string | null;
  created_at: string;
  finished_at: string | null;
  attempts: number;
}

export function turnsRepo(db: Db) {
  return {
    start(id: string, conversationId: string, now: string): void {
      db.prepare("INSERT INTO turns (id, conversation_id, status, started_at) VALUES (?, ?, 'running', ?)").run(id, conversationId, now);
    },
    finish(id: string, status: 'done' | 'failed' | 'parked', iterations: number, error: string | null, now: string): void {
      db.prepare('UPDATE turns SET status = ?, iterations = ?, error = ?, ended_at = ? WHERE id = ?').run(status, iterations, error, now, id);
    },
    /** The newest turn left running (a crash) or parked (the model was down), if any. */
    unfinished(conversationId: string): { id: string; status: string } | undefined {
      return db
        .prepare("SELECT id, status FROM turns WHERE conversation_id = ? AND status IN ('running', 'parked') ORDER BY started_at DESC LIMIT 1")
        .get(conversationId) as { id: string; status: string } | undefined;
    },
    /** Conversations with a turn left running or parked (resumed at start). */
    conversationsWithUnfinishedTurns(): string[] {
      return (db.prepare("SELECT DISTINCT conversation_id AS id FROM turns WHERE status IN ('running', 'parked')").all() as Array<{ id: string }>).map((r) => r.id);
    },
    get(id: string): { id: string; conversation_id: string; status: string; started_at: string } | undefined {
      return db.prepare('SELECT id, conversation_id, status, started_at FROM turns WHERE id = ?').get(id) as { id: string; conversation_id: string; status: string; started_at: string } | undefined;
    },
    /**
     * A person took the conversation: its parked or running turns end as failed
     * ('taken_over') and their pending resume_turn jobs are cancelled, so nothing
     * wakes the agent behind staff's back. Returns the turns ended.
     */
    cancelForStaff(conversationId: string, now: string, includeRunning = true): string[] {
      const statuses = includeRunning ? "('running', 'parked')" : "('parked')";
      const ids = (db.prepare(`SELECT id FROM turns WHERE conversation_id = ? AND status IN ${statuses}`).all(conversationId) as Array<{ id: string }>).map((r) => r.id);
      db.prepare(`UPDATE turns SET status = 'failed', error = 'taken_over', ended_at = ? WHERE conversation_id = ? AND status IN ${statuses}`).run(now, conversationId);
      db.prepare(
        "UPDATE jobs SET status = 'done', last_error = 'cancelled: taken over', updated_at = ? WHERE kind = 'resume_turn' AND status = 'pending' AND json_extract(payload, '$.conversationId') = ?",
      ).run(now, conversationId);
      return ids;
    },
    /** Pending resume_turn jobs of a conversation (tests and the console). */
    pendingResumeJobs(conversationId: string): number {
      return (db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'resume_turn' AND status = 'pending' AND json_extract(payload, '$.conversationId') = ?").get(conversationId) as { n: number }).n;
    },
    reopen(id: string): void {
      db.prepare("UPDATE turns SET status = 'running', ended_at = NULL WHERE id = ? AND status = 'parked'").run(id);
    },
    appendHistory(conversationId: string, turnId: string | null, role: 'user' | 'assistant', content: unknown, now: string): void {
      db.prepare('INSERT INTO history (conversation_id, turn_id, role, content, created_at) VALUES (?, ?, ?, ?, ?)').run(
        conversationId, turnId, role, JSON.stringify(content), now,
      );
    },
    lastHistory(conversationId: string): HistoryRow | undefined {
      return db.prepare('SELECT * FROM history WHERE conversation_id = ? ORDER BY id DESC LIMIT 1').get(conversationId) as HistoryRow | undefined;
    },
    history(conversationId: string): HistoryRow[] {
      return db.prepare('SELECT * FROM history WHERE conversation_id = ? ORDER BY id').all(conversationId) as HistoryRow[];
    },
    recordModelCall(row: ModelCallRow): void {
      db.prepare(
        `INSERT INTO model_calls (conversation_id, turn_id, model, request_id, message_id, stop_reason, input_tokens, output_tokens,
           cache_read_tokens, cache_creation_tokens, prefix_hash, latency_ms, error, created_at)
         VALUES (@conversation_id, @turn_id, @model, @request_id, @message_id, @stop_reason, @input_tokens, @output_tokens,
           @cache_read_tokens, @cache_creation_tokens, @prefix_hash, @latency_ms, @error, @created_at)`,
      ).run(row);
    },
    /** The newest model call of any conversation (readiness). */
    lastModelCall(): ModelCallRow | undefined {
      return db.prepare('SELECT * FROM model_calls ORDER BY id DESC LIMIT 1').get() as ModelCallRow | undefined;
    },
    modelCalls(conversationId: string): ModelCallRow[] {
      return db.prepare('SELECT * FROM model_calls WHERE conversation_id = ? ORDER BY id').all(conversationId) as ModelCallRow[];
    },
    /** Records a tool call before it runs; false when this tool_use id was already recorded. */
    startToolCall(row: { tool_use_id: string; conversation_id: string; turn_id: string; name: string; input: string; created_at: string }): boolean {
      return (
        db
          .prepare(
            `INSERT INTO tool_calls (tool_use_id, conversation_id, turn_id, name, input, status, created_at)
             VALUES (@tool_use_id, @conversation_id, @turn_id, @name, @input, 'started', @created_at) ON CONFLICT (conversation_id, tool_use_id) DO NOTHING`,
          )
          .run(row).changes === 1
      );
    },
    finishToolCall(conversationId: string, toolUseId: string, outcome: 'ok' | 'refused' | 'error', reason: string | null, result: string, now: string): void {
      db.prepare("UPDATE tool_calls SET status = 'done', outcome = ?, reason = ?, result = ?, finished_at = ? WHERE conversation_id = ? AND tool_use_id = ?").run(
        outcome, reason, result, now, conversationId, toolUseId,
      );
    },
    /** A provider failed during the call: it stays 'started' (to be run again); returns the attempts so far. */
    failToolCallTransient(conversationId: string, toolUseId: string, reason: string): number {
      db.prepare("UPDATE tool_calls SET attempts = attempts + 1, reason = ? WHERE conversation_id = ? AND tool_use_id = ? AND status = 'started'").run(reason, conversationId, toolUseId);
      return (db.prepare('SELECT attempts FROM tool_calls WHERE conversation_id = ? AND tool_use_id = ?').get(conversationId, toolUseId) as { attempts: number }).attempts;
    },
    /** A tool call of this conversation (tool_use ids are scoped to their conversation, never global). */
    toolCall(conversationId: string, toolUseId: string): ToolCallRow | undefined {
      return db.prepare('SELECT * FROM tool_calls WHERE conversation_id = ? AND tool_use_id = ?').get(conversationId, toolUseId) as ToolCallRow | undefined;
    },
    toolCalls(conversationId: string): ToolCallRow[] {
      return db.prepare('SELECT * FROM tool_calls WHERE conversation_id = ? ORDER BY id').all(conversationId) as ToolCallRow[];
    },
  };
}
