import express from 'express';
import { z } from 'zod';
import { reaisToCents } from '../../core/money.ts';
import { SANDBOX_CREDENTIALS } from '../credentials.ts';
import { isValidNfeKey, nfeAccessKey } from '../nfe-key.ts';
import { MERCHANT_CNPJ } from '../seed.ts';
import { emulate, type EmulatorContext } from './common.ts';
import type { World } from './state.ts';

/**
 * Focus NFe (PROVIDERS.md §5.2): `POST /v2/nfe?ref=REF` answers 202
 * "processando_autorizacao"; the note is authorized by the next GET.
 * The `ref` is unique: a second POST with it is refused as already processed.
 */
const devolucao = z.looseObject({
  finalidade_emissao: z.literal('4'),
  notas_referenciadas: z.array(z.looseObject({ chave_nfe: z.string().refine(isValidNfeKey, 'chave_nfe must be a valid 44-digit access key') })).min(1),
  items: z.array(z.looseObject({ cfop: z.string().regex(/^\d{4}$/), valor_bruto: z.string().regex(/^\d{1,10}\.\d{2}$/) })).min(1),
});

export function focusRouter(ctx: EmulatorContext, world: World): express.Router {
  const router = express.Router();
  const auth = `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.focus.token}:`).toString('base64')}`;
  const errorBody = (status: number) => (status === 429 ? { codigo: 'limite_requisicoes', mensagem: 'Limite de requisições excedido' } : { codigo: 'erro_interno', mensagem: 'Erro interno' });
  const render = (n: (typeof world.state.focusNotes)[number]) => ({
    cnpj_emitente: MERCHANT_CNPJ,
    ref: n.ref,
    status: n.status,
    ...(n.status === 'autorizado'
      ? { status_sefaz: '100', mensagem_sefaz: 'Autorizado o uso da NF-e', chave_nfe: `NFe${n.key}`, numero: String(n.number), serie: n.series, caminho_xml_nota_fiscal: `/arquivos/${n.key}-nfe.xml`, caminho_danfe: `/arquivos/${n.key}.pdf` }
      : {}),
  });
  router.use((req, res, next) => {
    if (req.get('authorization') !== auth) return void res.status(401).json({ codigo: 'permissao_negada', mensagem: 'Token inválido' });
    next();
  });
  router.post('/v2/nfe', express.json({ limit: '1mb' }), emulate(ctx, 'fiscal', errorBody, (req, res) => {
    const ref = String(req.query.ref ?? '');
    if (!/^[A-Za-z0-9]{1,50}$/.test(ref)) return void res.status(400).json({ codigo: 'requisicao_invalida', mensagem: 'Parâmetro ref inválido' });
    if (world.state.focusNotes.some((n) => n.ref === ref)) return void res.status(422).json({ codigo: 'already_processed', mensagem: 'Nota fiscal já processada com esta referência' });
    const parsed = devolucao.safeParse(req.body);
    if (!parsed.success) {
      return void res.status(422).json({ codigo: 'erro_validacao_schema', mensagem: 'Erro de validação', erros: parsed.error.issues.map((i) => ({ mensagem: i.message, campo: i.path.join('.') })) });
    }
    const now = new Date();
    const number = world.state.focusNotes.length + 1;
    world.state.focusNotes.push({
      ref,
      status: 'processando_autorizacao',
      number,
      series: '1',
      key: nfeAccessKey({ uf: '35', yymm: now.toISOString().slice(2, 4) + now.toISOString().slice(5, 7), cnpj: MERCHANT_CNPJ, series: 1, number, code: 20000000 + number }),
      referenced_key: parsed.data.notas_referenciadas[0]!.chave_nfe,
      amount_cents: parsed.data.items.reduce((s, i) => s + reaisToCents(i.valor_bruto), 0),
      created_at: now.toISOString(),
    });
    world.save();
    res.status(202).json({ cnpj_emitente: MERCHANT_CNPJ, ref, status: 'processando_autorizacao' });
  }));
  router.get('/v2/nfe/:ref', emulate(ctx, 'fiscal', errorBody, (req, res) => {
    const note = world.state.focusNotes.find((n) => n.ref === req.params.ref);
    if (!note) return void res.status(404).json({ codigo: 'nao_encontrado', mensagem: 'Nota fiscal não encontrada' });
    if (note.status === 'processando_autorizacao') {
      note.status = 'autorizado';
      world.save();
    }
    res.json(render(note));
  }));
  return router;
}

/** Credit notes issued (CONTRACT.md /sandbox/fiscal/notes). */
export function listNotes(world: World) {
  return world.state.focusNotes.map((n) => ({
    number: String(n.number),
    refund_id: n.ref,
    order_id: world.state.orders.find((o) => o.invoiceKey === n.referenced_key)?.orderNumber ?? null,
    amount_cents: n.amount_cents,
  }));
}
