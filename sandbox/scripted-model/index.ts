import { createHash, randomBytes } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { neverAnswer, type FaultInjector } from '../faults.ts';
import { respond, type Block, type PolicyRequest } from './policy.ts';

/**
 * The scripted model at `/anthropic/v1/messages`, speaking the Anthropic
 * Messages API wire format so the real SDK runs in every demo and test.
 * Responses queued through `/model/script` are used first; then the policy.
 */

const contentBlock = z.looseObject({ type: z.string() });
const messagesRequest = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(contentBlock)]) })).min(1),
  system: z.union([z.string(), z.array(contentBlock)]).optional(),
  tools: z.array(z.looseObject({ name: z.string() })).optional(),
  tool_choice: z.looseObject({ type: z.string() }).optional(),
  stream: z.literal(false).optional(),
});

const scriptRequest = z
  .object({
    responses: z
      .array(
        z.object({
          content: z.array(
            z.union([
              z.object({ type: z.literal('text'), text: z.string() }).strict(),
              z.object({ type: z.literal('tool_use'), id: z.string().optional(), name: z.string().min(1), input: z.unknown() }).strict(),
            ]),
          ),
          stop_reason: z.enum(['end_turn', 'tool_use', 'max_tokens', 'stop_sequence']),
        }),
      )
      .min(1)
      .max(1000),
  })
  .strict();

const apiError = (type: string, message: string) => ({ type: 'error', error: { type, message } });
const uid = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;

export function createModelEmulator(opts: { faults: FaultInjector; latencyMs?: () => number }) {
  const router = express.Router();
  const queue: Array<{ content: Block[]; stop_reason: string }> = [];
  const seenPrefixes = new Set<string>();
  const received: unknown[] = [];

  router.post('/anthropic/v1/messages', express.json({ limit: '10mb' }), async (req: Request, res: Response) => {
    const auth = req.get('authorization');
    if (!(auth && /^Bearer \S+/.test(auth)) && !req.get('x-api-key')) return void res.status(401).json(apiError('authentication_error', 'invalid x-api-key'));
    if (!req.get('anthropic-version')) return void res.status(400).json(apiError('invalid_request_error', 'anthropic-version: header is required'));
    const parsed = messagesRequest.safeParse(req.body);
    if (!parsed.success) {
      return void res.status(400).json(apiError('invalid_request_error', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')));
    }
    received.push(parsed.data);
    if (received.length > 1000) received.shift();
    const wait = opts.latencyMs?.() ?? 0;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const fault = opts.faults.take('model');
    if (fault === 'http429') return void res.status(429).set('retry-after', '1').json(apiError('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'));
    if (fault === 'http500') return void res.status(529).json(apiError('overloaded_error', 'Overloaded'));
    if (fault === 'timeout' || fault === 'drop_response') return neverAnswer(res);

    const answer = queue.shift() ?? respond(parsed.data as unknown as PolicyRequest);
    const content = answer.content.map((b) => (b.type === 'tool_use' ? { type: 'tool_use', id: b.id || uid('toolu'), name: b.name, input: b.input ?? {} } : { type: 'text', text: b.text ?? '' }));
    const prefix = JSON.stringify({ tools: parsed.data.tools ?? [], system: parsed.data.system ?? '' });
    const prefixTokens = Math.ceil(prefix.length / 4);
    const cached = JSON.stringify(parsed.data).includes('cache_control');
    const prefixHash = createHash('sha256').update(prefix).digest('hex');
    const hit = cached && seenPrefixes.has(prefixHash);
    if (cached) seenPrefixes.add(prefixHash);
    res.set('request-id', uid('req')).json({
      id: uid('msg'),
      type: 'message',
      role: 'assistant',
      model: parsed.data.model,
      content,
      stop_reason: answer.stop_reason,
      stop_sequence: null,
      usage: {
        input_tokens: Math.max(1, Math.ceil(JSON.stringify(parsed.data.messages).length / 4)),
        output_tokens: Math.max(1, Math.ceil(JSON.stringify(content).length / 4)),
        cache_creation_input_tokens: cached && !hit ? prefixTokens : 0,
        cache_read_input_tokens: hit ? prefixTokens : 0,
      },
    });
  });

  router.post('/model/script', express.json({ limit: '1mb' }), (req, res) => {
    const parsed = scriptRequest.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: 'invalid_script', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    queue.push(...(parsed.data.responses as Array<{ content: Block[]; stop_reason: string }>));
    res.json({ queued: queue.length });
  });
  router.delete('/model/script', (_req, res) => {
    queue.length = 0;
    res.json({ queued: 0 });
  });

  return {
    router,
    reset() {
      queue.length = 0;
      received.length = 0;
    },
    queued: () => queue.length,
    requests: () => received,
  };
}
