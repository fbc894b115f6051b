import express from 'express';
import { z } from 'zod';
import { reaisToCents } from '../../core/money.ts';
import { SANDBOX_CREDENTIALS } from '../credentials.ts';
import { isValidNfeKey, nfeAccessKey } from '../nfe-key.ts';
import { MERCHANT_CNPJ } from '../seed.ts';
import { emulate, type EmulatorContext } from './common.ts';
import type { FocusNote, World } from './state.ts';

/**
 * Focus NFe (PROVIDERS.md §5.2, FocusNFe/api-doc `_nfe.md`, `index.html.md`):
 * `POST /v2/nfe?ref=REF` validates the body first — an NF-e missing a field
 * Focus lists as required answers 422 `erro_validacao_schema` with `erros` —
 * then answers 202 `processando_autorizacao`; SEFAZ decides after
 * `sefazMs` (a slow SEFAZ takes seconds). A return without a return CFOP is
 * rejected by SEFAZ (rejeição 327) and reads back as `erro_autorizacao`.
 * Re-POSTing a ref answers 422 `em_processamento` or `nfe_autorizada`.
 */
// Focus's own examples send numbers and strings alike ("cfop": 5923 or "1202"): both are accepted.
const txt = (name: string) => z.union([z.string(), z.number()], { error: `${name} é obrigatório` }).transform(String);
const pattern = (name: string, re: RegExp, message: string) => txt(name).pipe(z.string().regex(re, `${name}: ${message}`));
const money = (name: string) => pattern(name, /^\d{1,13}(\.\d{1,2})?$/, 'valor decimal com até 2 casas');
const decimal = (name: string) => pattern(name, /^\d{1,11}(\.\d{1,10})?$/, 'número decimal');
const filled = (name: string) => pattern(name, /\S/, 'não pode ser vazio');
// Required: what both of Focus's examples ("campos obrigatórios" and the devolução) carry.
const item = z.looseObject({
  numero_item: filled('numero_item'),
  codigo_produto: filled('codigo_produto'),
  descricao: pattern('descricao', /^.{1,120}$/s, 'até 120 caracteres'),
  cfop: pattern('cfop', /^\d{4}$/, 'deve ter 4 dígitos'),
  codigo_ncm: pattern('codigo_ncm', /^\d{8}$/, 'deve ter 8 dígitos'),
  unidade_comercial: filled('unidade_comercial'),
  quantidade_comercial: decimal('quantidade_comercial'),
  valor_unitario_comercial: decimal('valor_unitario_comercial'),
  unidade_tributavel: filled('unidade_tributavel'),
  quantidade_tributavel: decimal('quantidade_tributavel'),
  valor_unitario_tributavel: decimal('valor_unitario_tributavel'),
  valor_bruto: money('valor_bruto'),
  icms_origem: pattern('icms_origem', /^[0-8]$/, 'origem 0 a 8'),
  icms_situacao_tributaria: pattern('icms_situacao_tributaria', /^\d{2,3}$/, 'situação tributária'),
  pis_situacao_tributaria: pattern('pis_situacao_tributaria', /^\d{2}$/, 'situação tributária'),
  cofins_situacao_tributaria: pattern('cofins_situacao_tributaria', /^\d{2}$/, 'situação tributária'),
});
const nfe = z
  .looseObject({
    natureza_operacao: filled('natureza_operacao'),
    data_emissao: pattern('data_emissao', /^\d{4}-\d{2}-\d{2}/, 'data ISO'),
    tipo_documento: pattern('tipo_documento', /^[01]$/, '0 ou 1'),
    finalidade_emissao: pattern('finalidade_emissao', /^[1-4]$/, '1 a 4'),
    local_destino: pattern('local_destino', /^[123]$/, '1, 2 ou 3').optional(),
    consumidor_final: pattern('consumidor_final', /^[01]$/, '0 ou 1').optional(),
    presenca_comprador: pattern('presenca_comprador', /^[0-59]$/, 'valor inválido').optional(),
    cnpj_emitente: pattern('cnpj_emitente', /^\d{14}$/, '14 dígitos'),
    nome_destinatario: filled('nome_destinatario'),
    cpf_destinatario: pattern('cpf_destinatario', /^\d{11}$/, '11 dígitos').optional(),
    cnpj_destinatario: pattern('cnpj_destinatario', /^[0-9A-Z]{14}$/, '14 caracteres').optional(),
    indicador_inscricao_estadual_destinatario: pattern('indicador_inscricao_estadual_destinatario', /^[129]$/, '1, 2 ou 9').optional(),
    logradouro_destinatario: filled('logradouro_destinatario'),
    numero_destinatario: filled('numero_destinatario'),
    bairro_destinatario: filled('bairro_destinatario'),
    municipio_destinatario: filled('municipio_destinatario'),
    uf_destinatario: pattern('uf_destinatario', /^[A-Z]{2}$/, 'sigla da UF'),
    cep_destinatario: pattern('cep_destinatario', /^\d{8}$/, '8 dígitos'),
    modalidade_frete: pattern('modalidade_frete', /^[0-49]$/, 'valor inválido'),
    valor_produtos: money('valor_produtos'),
    valor_total: money('valor_total'),
    notas_referenciadas: z.array(z.looseObject({ chave_nfe: pattern('chave_nfe', /^\d{44}$/, 'chave de acesso de 44 dígitos') })).optional(),
    items: z.array(item, { error: 'items é obrigatório' }).min(1, 'items deve ter pelo menos um item'),
  })
  .refine((b) => b.cpf_destinatario || b.cnpj_destinatario, { message: 'Preencha pelo menos um documento do destinatário: cnpj_destinatario ou cpf_destinatario' })
  .refine((b) => b.finalidade_emissao !== '4' || (b.notas_referenciadas?.length ?? 0) > 0, { message: 'NF-e de devolução (finalidade_emissao 4) exige notas_referenciadas', path: ['notas_referenciadas'] });

/** CFOPs of a return (entrada 1/2, saída 5/6): SEFAZ's rejeição 327 otherwise, for finalidade 4. */
const RETURN_CFOP = /^[1256](20[1-9]|21[0-9]|41[0-1]|503|553|660|661|662|918|919)$|^[12]949$/;

export interface FocusEmulatorOptions {
  /** How long SEFAZ takes to decide after the POST (ms). */
  sefazMs: () => number;
}

export function focusRouter(ctx: EmulatorContext, world: World, options: FocusEmulatorOptions = { sefazMs: () => 0 }): express.Router {
  const router = express.Router();
  const auth = `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.focus.token}:`).toString('base64')}`;
  const errorBody = (status: number) => (status === 429 ? { codigo: 'limite_requisicoes', mensagem: 'Limite de requisições excedido' } : { codigo: 'erro_interno', mensagem: 'Erro interno' });
  /** SEFAZ's decision, once its time has come. */
  const decide = (n: FocusNote) => {
    if (n.status !== 'processando_autorizacao' || Date.now() < Date.parse(n.created_at) + (n.sefaz_ms ?? 0)) return;
    if (n.rejection) {
      n.status = 'erro_autorizacao';
    } else {
      n.status = 'autorizado';
    }
    world.put('focusNotes', n);
  };
  const render = (n: FocusNote) => ({
    cnpj_emitente: MERCHANT_CNPJ,
    ref: n.ref,
    status: n.status,
    ...(n.status === 'autorizado'
      ? { status_sefaz: '100', mensagem_sefaz: 'Autorizado o uso da NF-e', chave_nfe: `NFe${n.key}`, numero: String(n.number), serie: n.series, caminho_xml_nota_fiscal: `/arquivos/${n.key}-nfe.xml`, caminho_danfe: `/arquivos/${n.key}.pdf` }
      : n.status === 'erro_autorizacao'
        ? { status_sefaz: n.rejection?.code ?? '999', mensagem_sefaz: n.rejection?.message ?? 'Rejeição' }
        : {}),
  });
  router.use((req, res, next) => {
    if (req.get('authorization') !== auth) return void res.status(401).json({ codigo: 'permissao_negada', mensagem: 'Token inválido' });
    next();
  });
  router.post('/v2/nfe', express.json({ limit: '1mb' }), emulate(ctx, 'fiscal', errorBody, (req, res) => {
    const ref = String(req.query.ref ?? '');
    if (!/^[A-Za-z0-9]{1,50}$/.test(ref)) return void res.status(400).json({ codigo: 'requisicao_invalida', mensagem: 'Parâmetro "ref" não informado' });
    const existing = world.state.focusNotes.find((n) => n.ref === ref);
    if (existing) {
      decide(existing);
      // index.html.md "Erros": re-processing a ref that is authorised or still processing.
      if (existing.status === 'autorizado') return void res.status(422).json({ codigo: 'nfe_autorizada', mensagem: 'Nota fiscal já autorizada' });
      if (existing.status === 'processando_autorizacao') return void res.status(422).json({ codigo: 'em_processamento', mensagem: 'Nota fiscal em processamento' });
      // erro_autorizacao: Focus accepts the same ref again (a corrected note); here it is decided again.
      world.state.focusNotes.splice(world.state.focusNotes.indexOf(existing), 1);
      world.removeNote(ref);
    }
    const parsed = nfe.safeParse(req.body);
    if (!parsed.success) {
      return void res.status(422).json({
        codigo: 'erro_validacao_schema',
        mensagem: 'Erro na validação do Schema XML, verifique o detalhamento dos erros',
        erros: parsed.error.issues.map((i) => ({ mensagem: i.message, campo: i.path.length ? i.path.join('.') : null })),
      });
    }
    const body = parsed.data;
    // index.html.md "Status API": an issuer the token may not issue for.
    if (body.cnpj_emitente !== MERCHANT_CNPJ) return void res.status(403).json({ codigo: 'permissao_negada', mensagem: 'CNPJ do emitente não autorizado.' });
    const amountCents = body.items.reduce((s, i) => s + reaisToCents(i.valor_bruto), 0);
    // What SEFAZ decides later (erro_autorizacao), not what Focus's schema refuses now.
    const rejection =
      body.notas_referenciadas?.some((n) => !isValidNfeKey(n.chave_nfe))
        ? { code: '547', message: 'Rejeição: Dígito Verificador da chave de acesso da NF-e Referenciada inválido' }
        : body.finalidade_emissao === '4' && body.items.some((i) => !RETURN_CFOP.test(i.cfop))
        ? { code: '327', message: 'Rejeição: CFOP inválido para Nota Fiscal com finalidade de devolução' }
        : amountCents !== reaisToCents(body.valor_produtos)
          ? { code: '564', message: 'Rejeição: Total do Produto / Serviço difere do somatório dos itens' }
          : undefined;
    const now = new Date();
    const number = world.state.focusNotes.length + 1;
    const note: FocusNote = {
      ref,
      status: 'processando_autorizacao',
      number,
      series: '1',
      key: nfeAccessKey({ uf: '35', yymm: now.toISOString().slice(2, 4) + now.toISOString().slice(5, 7), cnpj: MERCHANT_CNPJ, series: 1, number, code: 20000000 + number }),
      referenced_key: body.notas_referenciadas?.[0]?.chave_nfe ?? '',
      amount_cents: amountCents,
      created_at: now.toISOString(),
      sefaz_ms: options.sefazMs(),
      ...(rejection ? { rejection } : {}),
    };
    world.state.focusNotes.push(note);
    world.put('focusNotes', note);
    res.status(202).json({ cnpj_emitente: MERCHANT_CNPJ, ref, status: 'processando_autorizacao' });
  }));
  router.get('/v2/nfe/:ref', emulate(ctx, 'fiscal', errorBody, (req, res) => {
    const note = world.state.focusNotes.find((n) => n.ref === req.params.ref);
    if (!note) return void res.status(404).json({ codigo: 'nao_encontrado', mensagem: 'Nota fiscal não encontrada' });
    decide(note);
    res.json(render(note));
  }));
  return router;
}

/** Credit notes issued (CONTRACT.md /sandbox/fiscal/notes). */
export function listNotes(world: World) {
  return world.state.focusNotes.filter((n) => n.status !== 'erro_autorizacao').map((n) => ({
    number: String(n.number),
    refund_id: n.ref,
    order_id: world.state.orders.find((o) => o.invoiceKey === n.referenced_key)?.orderNumber ?? null,
    amount_cents: n.amount_cents,
  }));
}
