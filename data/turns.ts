import type { Sql } from './sql.ts';

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

export function turnsRepo(sql: Sql) {
  return {
    async start(id: string, conversationId: string, now: string): Promise<void> {
      await sql.run("INSERT INTO turns (id, conversation_id, status, started_at) VALUES (?, ?, 'running', ?)", id, conversationId, now);
    },
    async finish(id: string, status: 'done' | 'failed' | 'parked', iterations: number, error: string | null, now: string): Promise<void> {
      await sql.run('UPDATE turns SET status = ?, iterations = ?, error = ?, ended_at = ? WHERE id = ?', status, iterations, error, now, id);
    },
    /** The newest turn left running (a crash) or parked (the model was down), if any. */
    async unfinished(conversationId: string): Promise<{ id: string; status: string } | undefined> {
      return await sql.one("SELECT id, status FROM turns WHERE conversation_id = ? AND status IN ('running', 'parked') ORDER BY started_at DESC LIMIT 1", conversationId) as { id: string; status: string } | undefined;
    },
    /** Conversations with a turn left running or parked (resumed at start). */
    async conversationsWithUnfinishedTurns(): Promise<string[]> {
      return (await sql.all("SELECT DISTINCT conversation_id AS id FROM turns WHERE status IN ('running', 'parked')") as Array<{ id: string }>).map((r) => r.id);
    },
    async get(id: string): Promise<{ id: string; conversation_id: string; status: string; started_at: string } | undefined> {
      return await sql.one('SELECT id, conversation_id, status, started_at FROM turns WHERE id = ?', id) as { id: string; conversation_id: string; status: string; started_at: string } | undefined;
    },
    /**
     * A person took the conversation: its parked or running turns end as failed
     * ('taken_over') and their pending resume_turn jobs are cancelled, so nothing
     * wakes the agent behind staff's back. Returns the turns ended.
     */
    async cancelForStaff(conversationId: string, now: string, includeRunning = true): Promise<string[]> {
      const statuses = includeRunning ? "('running', 'parked')" : "('parked')";
      const ids = (await sql.all(`SELECT id FROM turns WHERE conversation_id = ? AND status IN ${statuses}`, conversationId) as Array<{ id: string }>).map((r) => r.id);
      await sql.run(`UPDATE turns SET status = 'failed', error = 'taken_over', ended_at = ? WHERE conversation_id = ? AND status IN ${statuses}`, now, conversationId);
      await sql.run("UPDATE jobs SET status = 'done', last_error = 'cancelled: taken over', updated_at = ? WHERE kind = 'resume_turn' AND status = 'pending' AND payload ->> 'conversationId' = ?", now, conversationId);
      return ids;
    },
    /** Pending resume_turn jobs of a conversation (tests and the console). */
    async pendingResumeJobs(conversationId: string): Promise<number> {
      return (await sql.one("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'resume_turn' AND status = 'pending' AND payload ->> 'conversationId' = ?", conversationId) as { n: number }).n;
    },
    async reopen(id: string): Promise<void> {
      await sql.run("UPDATE turns SET status = 'running', ended_at = NULL WHERE id = ? AND status = 'parked'", id);
    },
    async appendHistory(conversationId: string, turnId: string | null, role: 'user' | 'assistant', content: unknown, now: string): Promise<void> {
      await sql.run('INSERT INTO history (conversation_id, turn_id, role, content, created_at) VALUES (?, ?, ?, ?, ?)', conversationId, turnId, role, JSON.stringify(content), now);
    },
    async lastHistory(conversationId: string): Promise<HistoryRow | undefined> {
      return await sql.one('SELECT * FROM history WHERE conversation_id = ? ORDER BY id DESC LIMIT 1', conversationId) as HistoryRow | undefined;
    },
    async history(conversationId: string): Promise<HistoryRow[]> {
      return await sql.all('SELECT * FROM history WHERE conversation_id = ? ORDER BY id', conversationId) as HistoryRow[];
    },
    async recordModelCall(row: ModelCallRow): Promise<void> {
      await sql.run(`INSERT INTO model_calls (conversation_id, turn_id, model, request_id, message_id, stop_reason, input_tokens, output_tokens,
           cache_read_tokens, cache_creation_tokens, prefix_hash, latency_ms, error, created_at)
         VALUES (@conversation_id, @turn_id, @model, @request_id, @message_id, @stop_reason, @input_tokens, @output_tokens,
           @cache_read_tokens, @cache_creation_tokens, @prefix_hash, @latency_ms, @error, @created_at)`, row);
    },
    /** The newest model call of any conversation (readiness). */
    async lastModelCall(): Promise<ModelCallRow | undefined> {
      return await sql.one('SELECT * FROM model_calls ORDER BY id DESC LIMIT 1') as ModelCallRow | undefined;
    },
    async modelCalls(conversationId: string): Promise<ModelCallRow[]> {
      return await sql.all('SELECT * FROM model_calls WHERE conversation_id = ? ORDER BY id', conversationId) as ModelCallRow[];
    },
    /** Records a tool call before it runs; false when this tool_use id was already recorded. */
    async startToolCall(row: { tool_use_id: string; conversation_id: string; turn_id: string; name: string; input: string; created_at: string }): Promise<boolean> {
      return (
        (await sql.run(`INSERT INTO tool_calls (tool_use_id, conversation_id, turn_id, name, input, status, created_at)
             VALUES (@tool_use_id, @conversation_id, @turn_id, @name, @input, 'started', @created_at) ON CONFLICT (conversation_id, tool_use_id) DO NOTHING`, row)) === 1
      );
    },
    async finishToolCall(conversationId: string, toolUseId: string, outcome: 'ok' | 'refused' | 'error', reason: string | null, result: string, now: string): Promise<void> {
      await sql.run("UPDATE tool_calls SET status = 'done', outcome = ?, reason = ?, result = ?, finished_at = ? WHERE conversation_id = ? AND tool_use_id = ?", outcome, reason, result, now, conversationId, toolUseId);
    },
    /** A provider failed during the call: it stays 'started' (to be run again); returns the attempts so far. */
    async failToolCallTransient(conversationId: string, toolUseId: string, reason: string): Promise<number> {
      await sql.run("UPDATE tool_calls SET attempts = attempts + 1, reason = ? WHERE conversation_id = ? AND tool_use_id = ? AND status = 'started'", reason, conversationId, toolUseId);
      return (await sql.one('SELECT attempts FROM tool_calls WHERE conversation_id = ? AND tool_use_id = ?', conversationId, toolUseId) as { attempts: number }).attempts;
    },
    /** A tool call of this conversation (tool_use ids are scoped to their conversation, never global). */
    async toolCall(conversationId: string, toolUseId: string): Promise<ToolCallRow | undefined> {
      return await sql.one('SELECT * FROM tool_calls WHERE conversation_id = ? AND tool_use_id = ?', conversationId, toolUseId) as ToolCallRow | undefined;
    },
    async toolCalls(conversationId: string): Promise<ToolCallRow[]> {
      return await sql.all('SELECT * FROM tool_calls WHERE conversation_id = ? ORDER BY id', conversationId) as ToolCallRow[];
    },
  };
}
