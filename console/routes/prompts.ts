import express from 'express';
import { z } from 'zod';
import type { Services } from '../../services/context.ts';
import { DEFAULT_SYSTEM_PROMPT } from '../../agent/prompt.ts';
import { promptSha256 } from '../../data/evals.ts';
import { requireAdmin } from '../auth.ts';
import { lineDiff } from '../diff.ts';
import { parseBody } from '../http.ts';

/** Prompt versions: everyone reads them with their last eval and diffs; admins publish and roll back. */
export function promptRoutes(services: Pick<Services, 'store' | 'now' | 'publish'>, modelKind: 'scripted' | 'claude'): express.Router {
  const router = express.Router();
  const store = () => services.store;
  const now = () => services.now();
  router.get('/prompts', async (_req, res) => {
    const versions = await store().prompts.list();
    const scripted = modelKind === 'scripted';
    // The last `npm run eval` of each version's exact text, if any.
    const evalOf = async (text: string) => await store().evals.latestFor(promptSha256(text)) ?? null;
    res.json({
      current: versions[0] ?? { id: 0, text: DEFAULT_SYSTEM_PROMPT, author: 'shipped default', note: null, created_at: null },
      versions: await Promise.all(versions.map(async (v) => ({ ...v, eval: await evalOf(v.text) }))),
      default_eval: await evalOf(DEFAULT_SYSTEM_PROMPT),
      model: scripted ? 'scripted model' : 'claude',
      ...(scripted ? { model_note: 'The sandbox runs the scripted model, a fixed deterministic policy: prompt edits are stored and versioned but have no effect on it. Set ANTHROPIC_API_KEY to use Claude.' } : {}),
    });
  });
  router.get('/prompts/:id/diff', async (req, res) => {
    const s = store();
    const version = await s.prompts.get(Number(req.params.id));
    if (!version) return void res.status(404).json({ error: 'not_found' });
    const previous = (await s.prompts.list()).find((v) => v.id < version.id);
    res.json({ id: version.id, author: version.author, created_at: version.created_at, note: version.note, diff: lineDiff(previous?.text ?? DEFAULT_SYSTEM_PROMPT, version.text) });
  });
  router.post('/prompts', requireAdmin, async (req, res) => {
    const body = parseBody(z.object({ text: z.string().trim().min(20).max(50_000), note: z.string().max(500).optional(), confirm: z.boolean().optional() }).strict(), req, res);
    if (!body) return;
    // Publishing a text whose eval passes fewer scenarios than the current version's asks for confirmation.
    const current = (await store().prompts.current())?.text ?? DEFAULT_SYSTEM_PROMPT;
    const before = await store().evals.latestFor(promptSha256(current));
    const after = await store().evals.latestFor(promptSha256(body.text));
    if (!body.confirm && before && after && after.pass_k < before.pass_k) {
      return void res.status(409).json({
        error: 'lower_pass_rate',
        message: `this text passed pass^${after.k} = ${after.pass_k.toFixed(2)} in its last eval, below the current version's ${before.pass_k.toFixed(2)}; send confirm: true to publish it anyway`,
        current: before, candidate: after,
      });
    }
    const version = await store().prompts.add(body.text, req.user!.email, body.note ?? null, now().toISOString());
    services.publish({ type: 'prompt', version: version.id });
    res.status(201).json(version);
  });
  router.post('/prompts/:id/rollback', requireAdmin, async (req, res) => {
    const s = store();
    const id = Number(req.params.id);
    const text = id === 0 ? DEFAULT_SYSTEM_PROMPT : (await s.prompts.get(id))?.text;
    if (!text) return void res.status(404).json({ error: 'not_found' });
    const version = await s.prompts.add(text, req.user!.email, `rollback to ${id === 0 ? 'the shipped default' : `v${id}`}`, now().toISOString());
    services.publish({ type: 'prompt', version: version.id });
    res.status(201).json(version);
  });
  return router;
}
