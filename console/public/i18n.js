// The console's words: Brazilian Portuguese first, English selectable. A flat
// dictionary per language and `t(key, vars)`; no framework. Dates, money and
// durations go through Intl in the chosen locale.

const DICT = {
  'pt-BR': {
    'app.title': 'Estorno · console',
    'brand.sub': 'console',
    'skip': 'Pular para o conteúdo',
    'lang.label': 'Idioma',
    'tab.conversations': 'Conversas', 'tab.approvals': 'Aprovações', 'tab.receipts': 'Recibos', 'tab.stats': 'Gráficos', 'tab.admin': 'Admin',
    'tab.short.approvals': 'Aprovar',
    'login.title': 'Entrar', 'login.email': 'E-mail', 'login.password': 'Senha', 'login.submit': 'Entrar', 'login.bad': 'E-mail ou senha incorretos.',
    'logout': 'Sair', 'role.staff': 'atendente', 'role.admin': 'admin',
    'notify.toggle': 'Avisos', 'notify.on': 'Avisos ligados: som e notificação quando alguém esperar por uma pessoa.', 'notify.off': 'Avisos desligados.',
    'notify.denied': 'O navegador bloqueou as notificações; o som continua ligado.',
    'notify.title': 'Cliente esperando atendimento', 'notify.body': 'Motivo: {reason}',
    'live.connecting': '○ conectando', 'live.on': '● ao vivo', 'live.off': '○ reconectando',
    'alert.mandate': 'O agente está sem mandato ativo: nenhum estorno automático acontece e os pedidos vão para a equipe. Um admin precisa emitir ou reativar um mandato.',
    'alert.model': 'O modelo está com falhas ({error}): conversas podem ir para a fila da equipe.',
    'alert.provider': 'Serviço {name} com falhas ({error}).',
    'alert.waiting': '{count} conversa(s) esperando uma pessoa.',
    'alert.show_queue': 'Ver fila',
    'inbox.title': 'Conversas', 'inbox.search': 'Buscar', 'inbox.search.placeholder': 'Nome, final do telefone, pedido ou recibo',
    'inbox.filters': 'Filtros', 'inbox.state': 'Situação', 'inbox.assignee': 'Responsável', 'inbox.from': 'De', 'inbox.to': 'Até',
    'inbox.any': 'Todas', 'inbox.anyone': 'Qualquer um', 'inbox.me': 'Comigo', 'inbox.none': 'Sem responsável', 'inbox.clear': 'Limpar',
    'inbox.queue': 'Precisam de uma pessoa', 'inbox.others': 'Demais conversas', 'inbox.more': 'Carregar mais',
    'inbox.empty': 'Nenhuma conversa ainda. Elas aparecem aqui, ao vivo, quando clientes escrevem no WhatsApp.',
    'inbox.nothing': 'Nenhuma conversa encontrada com esses filtros.',
    'inbox.assigned_to': 'com {name}',
    'method.pix': 'Pix', 'method.credit_card': 'cartão de crédito', 'method.debit_card': 'cartão de débito', 'method.boleto': 'boleto', 'method.other': 'outro',
    'inbox.unread': '{count} não lida(s)', 'inbox.to_approve': '{count} a aprovar',
    'from.customer': '', 'from.agent': 'Agente: ', 'from.template': 'Agente: ', 'from.system': 'Sistema: ', 'from.staff': 'Equipe: ',
    'media.image': 'imagem', 'media.audio': 'áudio', 'media.video': 'vídeo', 'media.document': 'documento', 'media.sticker': 'figurinha', 'media.other': 'mídia',
    'state.agent': 'Com o agente', 'state.waiting_for_staff': 'Esperando pessoa', 'state.with_staff': 'Com a equipe', 'state.closed': 'Encerrada',
    'reason.card_payment': 'pagamento com cartão', 'reason.outside_window': 'fora do prazo do Pix', 'reason.mandate_inactive': 'mandato inativo',
    'reason.model_unavailable': 'modelo indisponível', 'reason.not_understood': 'não entendido', 'reason.customer_asked': 'cliente pediu',
    'reason.media_needs_person': 'mídia para analisar', 'reason.job_failed': 'falha no processamento', 'reason.payment_unverified': 'pagamento não confirmado', 'reason.unknown': 'sem motivo',
    'waiting.for': 'esperando há {duration}',
    'conv.pick': 'Escolha uma conversa', 'conv.back': 'Conversas', 'conv.assignee': 'Responsável', 'conv.nobody': 'Ninguém',
    'conv.takeover': 'Atender', 'conv.handback': 'Devolver ao agente', 'conv.close': 'Encerrar', 'conv.reopen': 'Reabrir',
    'conv.taken': 'Você está com a conversa; o agente está pausado para este cliente.', 'conv.handed': 'Devolvida ao agente.',
    'conv.closed': 'Conversa encerrada.', 'conv.reopened': 'Conversa reaberta com a equipe.', 'conv.assigned': 'Responsável: {name}.',
    'conv.intro': 'Escolha uma conversa à esquerda. Cada conversa mostra, em ordem, o que o cliente escreveu, o que o agente e a equipe responderam, as notas internas, cada chamada de ferramenta com a decisão do guarda, os estornos e os recibos selados.',
    'compose.reply': 'Responder', 'compose.note': 'Nota interna', 'compose.canned': 'Respostas prontas', 'compose.canned.pick': 'Inserir resposta pronta…',
    'compose.reply.placeholder': 'Mensagem para o cliente (vai pelo WhatsApp)', 'compose.note.placeholder': 'Nota interna: só a equipe vê, nunca vai para o cliente',
    'compose.send': 'Enviar', 'compose.save_note': 'Salvar nota', 'compose.need_takeover': 'Para responder, clique em Atender: o agente pausa para este cliente.',
    'compose.missing': 'Preencha no texto: {names}.', 'compose.note_saved': 'Nota salva (não foi enviada ao cliente).', 'compose.label': 'Texto',
    'entry.customer': 'cliente', 'entry.agent': 'agente', 'entry.staff': 'equipe · {name}', 'entry.staff_unknown': 'equipe',
    'entry.note': 'nota interna · {name}', 'entry.tool': 'ferramenta', 'entry.guard': 'decisão do guarda', 'entry.approval': 'decisão da equipe',
    'entry.refund': 'estorno', 'entry.open': 'abrir', 'entry.by': 'por {name}', 'entry.order': 'pedido {order}', 'entry.receipt': 'recibo',
    'refund.reserved': 'reservado', 'refund.submitting': 'enviando ao banco', 'refund.pending': 'em processamento', 'refund.unknown': 'em conferência', 'refund.settled': 'liquidado', 'refund.failed': 'falhou',
    'status.pending': 'pendente', 'status.sent': 'enviada', 'status.dead': 'falhou',
    'receipt.line': 'recibo {id} (pedido {order})', 'receipt.valid': 'cadeia e assinatura válidas', 'receipt.invalid': 'inválido',
    'panel.title': 'Cliente', 'panel.orders': 'Pedidos', 'panel.payments': 'Pagamentos', 'panel.refunds': 'Estornos', 'panel.receipts': 'Recibos',
    'panel.previous': 'Outras conversas', 'panel.none': 'Nada ainda.', 'panel.erp': 'Consultar o ERP', 'panel.erp_loading': 'Consultando o ERP…',
    'panel.erp_failed': 'O ERP não respondeu; tente de novo.', 'panel.erp_orders': 'Pedidos no ERP', 'panel.closed_cycles': 'Encerramentos anteriores',
    'panel.paid': 'pago {amount} via {rail} em {date}', 'panel.code': 'cliente ERP {code}', 'panel.toggle': 'Dados do cliente',
    'appr.title': 'Aprovações', 'appr.hint': 'Estornos acima do mandato do agente. Aprovar executa exatamente esta proposta (pedido, valor, motivo) pelo guarda, sob o mandato de quem aprova, e o cliente é avisado. Rejeitar também avisa o cliente; seu motivo interno nunca é enviado.',
    'appr.empty': 'Nada esperando aprovação.', 'appr.order': 'Pedido', 'appr.amount': 'Valor', 'appr.why': 'Por que precisa de você', 'appr.agent_reason': 'Motivo do agente',
    'appr.requested': 'pedido em {date} · expira {expires}', 'appr.open': 'Ver contexto e decidir', 'appr.items': 'Itens do pedido', 'appr.payment': 'Pagamento',
    'appr.history': 'Estornos anteriores do cliente', 'appr.excerpt': 'Trecho da conversa', 'appr.no_history': 'Nenhum estorno anterior.',
    'appr.erp_failed': 'Itens indisponíveis: o ERP não respondeu.', 'appr.refunded': 'já estornado: {amount}', 'appr.conversation': 'abrir conversa',
    'appr.reason': 'Motivo interno (obrigatório, nunca enviado ao cliente)', 'appr.customer_message': 'Mensagem ao cliente (opcional, só ao rejeitar)',
    'appr.approve': 'Aprovar {amount}', 'appr.reject': 'Rejeitar', 'appr.need_reason': 'Escreva o motivo da decisão primeiro.',
    'appr.confirm_title': 'Confirmar estorno de {amount}', 'appr.confirm_note': 'O dinheiro sai agora: {amount} para {name}, pedido #{order}, pelo mesmo meio do pagamento ({rail}). Não dá para desfazer.',
    'appr.confirm': 'Estornar {amount}', 'appr.approved': 'Aprovado: o estorno {id} está {status}.', 'appr.rejected': 'Rejeitado; o cliente foi avisado.',
    'appr.reject_title': 'Rejeitar o estorno de {amount}?', 'appr.reject_note': 'O cliente recebe a mensagem padrão de recusa{extra}.', 'appr.reject_extra': ' e a sua mensagem',
    'appr.guard.over_per_refund_cap': 'acima do limite por estorno', 'appr.guard.over_window_cap': 'acima do limite da janela',
    'rcpt.title': 'Verificar um recibo', 'rcpt.hint': 'Cada caso é uma cadeia de hashes selada com assinatura Ed25519. Os ids (rcp_…) aparecem nas conversas e na mensagem do cliente.',
    'rcpt.id': 'Id do recibo', 'rcpt.verify': 'Verificar', 'rcpt.ok': '{records} registros encadeados, {sealed}', 'rcpt.sealed': 'selado ({outcome}) e a assinatura confere com a chave {key}',
    'rcpt.unsealed': 'ainda não selado', 'rcpt.offline': 'Qualquer pessoa pode conferir offline: npm run verify -- ', 'rcpt.key': 'chave pública',
    'stats.days': 'Estornos por dia', 'stats.days.summary': '{count} estorno(s) em 14 dias, {amount} liquidados', 'stats.days.y': 'estornos', 'stats.days.x': 'dia do mês',
    'stats.caps': 'Uso do limite por mandato', 'stats.caps.hint': 'Estornos na janela de cada mandato contra o seu limite.', 'stats.caps.of': '{used} de {cap} · {pct}%',
    'stats.latency': 'Tempo até o estorno', 'stats.latency.summary': 'p50 {p50} · p95 {p95} · {count} estorno(s) liquidado(s), da reclamação ao dinheiro devolvido',
    'stats.latency.y': 'estornos', 'stats.latency.x': 'tempo da reclamação à liquidação',
    'stats.reasons': 'Estornos por motivo (30 dias)', 'stats.handoffs': 'Transferências para a equipe por motivo (30 dias)',
    'stats.waiting': 'Tempo de espera por uma pessoa (30 dias)', 'stats.waiting.summary': 'p50 {p50} · p95 {p95} · {count} espera(s), {still} ainda esperando',
    'stats.waiting.x': 'tempo até alguém atender', 'stats.waiting.y': 'conversas', 'stats.count': '{count}', 'stats.none': 'sem dados ainda', 'stats.other': 'outros',
    'admin.prompt': 'Prompt do sistema', 'admin.prompt.note': 'O que mudou e por quê', 'admin.prompt.save': 'Salvar como nova versão', 'admin.versions': 'Versões (mais nova primeiro)',
    'admin.diff.pick': 'Escolha uma versão para ver o que mudou', 'admin.prompt.text': 'Texto do prompt',
    'admin.mandates': 'Mandatos', 'admin.mandates.hint': 'O que cada agente pode estornar, assinado. Pausar, reativar e revogar valem a partir do próximo estorno; novos limites são uma nova versão assinada.',
    'admin.mandate': 'Mandato', 'admin.agent': 'Agente', 'admin.status': 'Situação', 'admin.per_refund': 'Por estorno', 'admin.window_cap': 'Limite da janela', 'admin.used': 'Usado na janela', 'admin.signature': 'Assinatura', 'admin.actions': 'Ações',
    'admin.issue': 'Emitir um mandato', 'admin.issue.submit': 'Emitir e assinar', 'admin.mandate.id': 'id (cm_…)', 'admin.mandate.agent': 'id do agente (support-agent)',
    'admin.mandate.per': 'por estorno (R$)', 'admin.mandate.window': 'por 24 h (R$)',
    'admin.pause': 'Pausar', 'admin.resume': 'Reativar', 'admin.revoke': 'Revogar', 'admin.caps': 'Mudar limites', 'admin.reason': 'Motivo (fica na trilha de auditoria)',
    'admin.revoke.note': 'Um mandato revogado não pode ser reativado: o próximo estorno sob ele é recusado. Emita um novo para recomeçar.',
    'admin.caps.note': 'Uma nova versão é assinada; a antiga fica para a auditoria.', 'admin.resign': 'Assinar de novo',
    'admin.users': 'Usuários', 'admin.user.add': 'Adicionar usuário', 'admin.user.name': 'Nome', 'admin.user.email': 'E-mail', 'admin.user.role': 'Papel',
    'admin.user.password': 'senha (em branco: gerar uma)', 'admin.user.you': 'você', 'admin.user.disable': 'Desativar', 'admin.user.enable': 'Ativar',
    'admin.user.shown_once': 'A senha (mostrada uma vez; entregue em particular)', 'admin.user.added': 'Usuário adicionado.',
    'admin.canned': 'Respostas prontas', 'admin.canned.hint': 'Textos em português para a equipe. Variáveis: {vars}.', 'admin.canned.title': 'Título', 'admin.canned.body': 'Texto',
    'admin.canned.add': 'Adicionar resposta', 'admin.canned.edit': 'Editar', 'admin.canned.archive': 'Arquivar', 'admin.canned.saved': 'Resposta pronta salva.',
    'active': 'ativo', 'paused': 'pausado', 'revoked': 'revogado', 'expired': 'expirado', 'disabled': 'desativado', 'signature_ok': 'assinatura ok', 'signature_bad': 'assinatura inválida',
    'cancel': 'Cancelar', 'ok': 'OK', 'done': 'Pronto', 'current': '(atual)', 'rollback': 'Voltar para esta', 'rollback.default': 'Voltar ao padrão',
    'prompt.in_use': 'em uso: v{id} por {author}, {date}', 'prompt.default': 'em uso: o padrão de fábrica (v0)', 'prompt.model': 'modelo: {model}',
    'prompt.scripted': 'modelo roteirizado', 'prompt.scripted_note': 'O sandbox usa o modelo roteirizado, uma política fixa e determinística: as edições do prompt são guardadas e versionadas, mas não mudam as respostas dele. Defina ANTHROPIC_API_KEY para usar o Claude.',
    'prompt.v0': 'v0: o padrão de fábrica (prompts/system.md)', 'prompt.saved': 'Salvo como v{id}; o próximo turno usa esta versão.', 'prompt.rolled': 'Voltou para v{id} (como nova versão).',
    'prompt.click': 'clique para ver a diferença', 'prompt.diff_title': 'v{id} por {author}, {date}{note} (contra a versão anterior)',
    'error.generic': 'Algo deu errado: {message}',
    'err.not_taken_over': 'Clique em Atender antes de responder.', 'err.illegal_transition': 'A conversa mudou de situação; atualize e tente de novo.',
    'err.amount_mismatch': 'O valor mudou desde que você abriu; recarregue a aprovação.', 'err.not_pending': 'Esta aprovação já foi decidida.',
    'err.expired': 'Esta aprovação expirou.', 'err.refused': 'O guarda recusou o estorno.', 'err.csrf': 'Sessão desatualizada; recarregue a página.',
    'err.forbidden': 'Só admins podem fazer isso.', 'err.unknown_user': 'Usuário desconhecido ou desativado.', 'err.erp_unavailable': 'O ERP não respondeu; tente de novo.',
    'err.not_found': 'Não encontrado.', 'err.too_many_attempts': 'Muitas tentativas; espere 15 minutos.',
    'eval.none': ' · sem avaliação (npm run eval)', 'eval.badge': 'avaliação pass^{k} {pass} · {passed}/{total} · {model} · {date}',
    'eval.worse_title': 'Publicar um prompt que avaliou pior?', 'eval.publish_anyway': 'Publicar mesmo assim',
  },
  en: {
    'app.title': 'Estorno · console',
    'brand.sub': 'console',
    'skip': 'Skip to content',
    'lang.label': 'Language',
    'tab.conversations': 'Conversations', 'tab.approvals': 'Approvals', 'tab.receipts': 'Receipts', 'tab.stats': 'Pictures', 'tab.admin': 'Admin',
    'tab.short.approvals': 'Approve',
    'login.title': 'Log in', 'login.email': 'Email', 'login.password': 'Password', 'login.submit': 'Log in', 'login.bad': 'Wrong email or password.',
    'logout': 'Log out', 'role.staff': 'staff', 'role.admin': 'admin',
    'notify.toggle': 'Alerts', 'notify.on': 'Alerts on: a sound and a notification when someone waits for a person.', 'notify.off': 'Alerts off.',
    'notify.denied': 'The browser blocked notifications; the sound stays on.',
    'notify.title': 'A customer is waiting for a person', 'notify.body': 'Reason: {reason}',
    'live.connecting': '○ connecting', 'live.on': '● live', 'live.off': '○ reconnecting',
    'alert.mandate': 'The agent holds no active mandate: no automatic refund happens and requests go to staff. An admin must issue or resume a mandate.',
    'alert.model': 'The model is failing ({error}): conversations may be queued for staff.',
    'alert.provider': 'Provider {name} is failing ({error}).',
    'alert.waiting': '{count} conversation(s) waiting for a person.',
    'alert.show_queue': 'Show queue',
    'inbox.title': 'Conversations', 'inbox.search': 'Search', 'inbox.search.placeholder': 'Name, phone ending, order or receipt',
    'inbox.filters': 'Filters', 'inbox.state': 'State', 'inbox.assignee': 'Assignee', 'inbox.from': 'From', 'inbox.to': 'To',
    'inbox.any': 'All', 'inbox.anyone': 'Anyone', 'inbox.me': 'Mine', 'inbox.none': 'Unassigned', 'inbox.clear': 'Clear',
    'inbox.queue': 'Need a person', 'inbox.others': 'Other conversations', 'inbox.more': 'Load more',
    'inbox.empty': 'No conversations yet. They appear here, live, as customers write on WhatsApp.',
    'inbox.nothing': 'No conversation matches these filters.',
    'inbox.assigned_to': 'with {name}',
    'method.pix': 'Pix', 'method.credit_card': 'credit card', 'method.debit_card': 'debit card', 'method.boleto': 'boleto', 'method.other': 'other',
    'inbox.unread': '{count} unread', 'inbox.to_approve': '{count} to approve',
    'from.customer': '', 'from.agent': 'Agent: ', 'from.template': 'Agent: ', 'from.system': 'System: ', 'from.staff': 'Staff: ',
    'media.image': 'image', 'media.audio': 'audio', 'media.video': 'video', 'media.document': 'document', 'media.sticker': 'sticker', 'media.other': 'media',
    'state.agent': 'With the agent', 'state.waiting_for_staff': 'Waiting for a person', 'state.with_staff': 'With staff', 'state.closed': 'Closed',
    'reason.card_payment': 'card payment', 'reason.outside_window': 'past the Pix window', 'reason.mandate_inactive': 'mandate inactive',
    'reason.model_unavailable': 'model unavailable', 'reason.not_understood': 'not understood', 'reason.customer_asked': 'customer asked',
    'reason.media_needs_person': 'media to look at', 'reason.job_failed': 'job failed', 'reason.payment_unverified': 'payment not confirmed', 'reason.unknown': 'no reason',
    'waiting.for': 'waiting {duration}',
    'conv.pick': 'Pick a conversation', 'conv.back': 'Conversations', 'conv.assignee': 'Assignee', 'conv.nobody': 'Nobody',
    'conv.takeover': 'Take over', 'conv.handback': 'Hand back to the agent', 'conv.close': 'Close', 'conv.reopen': 'Reopen',
    'conv.taken': 'You have the conversation; the agent is paused for this customer.', 'conv.handed': 'Handed back to the agent.',
    'conv.closed': 'Conversation closed.', 'conv.reopened': 'Conversation reopened with staff.', 'conv.assigned': 'Assignee: {name}.',
    'conv.intro': 'Pick a conversation on the left. Each shows, in order, what the customer wrote, what the agent and staff answered, internal notes, every tool call with the guard\'s decision, refunds and sealed receipts.',
    'compose.reply': 'Reply', 'compose.note': 'Internal note', 'compose.canned': 'Canned replies', 'compose.canned.pick': 'Insert a canned reply…',
    'compose.reply.placeholder': 'Message to the customer (goes out through WhatsApp)', 'compose.note.placeholder': 'Internal note: staff only, never sent to the customer',
    'compose.send': 'Send', 'compose.save_note': 'Save note', 'compose.need_takeover': 'To reply, click Take over: the agent pauses for this customer.',
    'compose.missing': 'Fill in: {names}.', 'compose.note_saved': 'Note saved (not sent to the customer).', 'compose.label': 'Text',
    'entry.customer': 'customer', 'entry.agent': 'agent', 'entry.staff': 'staff · {name}', 'entry.staff_unknown': 'staff',
    'entry.note': 'internal note · {name}', 'entry.tool': 'tool call', 'entry.guard': 'guard decision', 'entry.approval': 'staff decision',
    'entry.refund': 'refund', 'entry.open': 'open', 'entry.by': 'by {name}', 'entry.order': 'order {order}', 'entry.receipt': 'receipt',
    'refund.reserved': 'reserved', 'refund.submitting': 'sending to the bank', 'refund.pending': 'in progress', 'refund.unknown': 'being checked', 'refund.settled': 'settled', 'refund.failed': 'failed',
    'status.pending': 'pending', 'status.sent': 'sent', 'status.dead': 'failed',
    'receipt.line': 'receipt {id} (order {order})', 'receipt.valid': 'chain and signature valid', 'receipt.invalid': 'invalid',
    'panel.title': 'Customer', 'panel.orders': 'Orders', 'panel.payments': 'Payments', 'panel.refunds': 'Refunds', 'panel.receipts': 'Receipts',
    'panel.previous': 'Other conversations', 'panel.none': 'Nothing yet.', 'panel.erp': 'Ask the ERP', 'panel.erp_loading': 'Asking the ERP…',
    'panel.erp_failed': 'The ERP did not answer; try again.', 'panel.erp_orders': 'Orders in the ERP', 'panel.closed_cycles': 'Earlier closes',
    'panel.paid': 'paid {amount} by {rail} on {date}', 'panel.code': 'ERP customer {code}', 'panel.toggle': 'Customer details',
    'appr.title': 'Approvals', 'appr.hint': 'Refunds over the agent\'s mandate. Approving executes exactly this proposal (order, amount, reason) through the guard, under the approver\'s mandate, and the customer is told. Rejecting tells the customer too; your internal reason is never sent.',
    'appr.empty': 'Nothing waiting for approval.', 'appr.order': 'Order', 'appr.amount': 'Amount', 'appr.why': 'Why it needs you', 'appr.agent_reason': 'Agent\'s reason',
    'appr.requested': 'requested {date} · expires {expires}', 'appr.open': 'See context and decide', 'appr.items': 'Order items', 'appr.payment': 'Payment',
    'appr.history': 'Customer\'s earlier refunds', 'appr.excerpt': 'Conversation excerpt', 'appr.no_history': 'No earlier refunds.',
    'appr.erp_failed': 'Items unavailable: the ERP did not answer.', 'appr.refunded': 'already refunded: {amount}', 'appr.conversation': 'open conversation',
    'appr.reason': 'Internal reason (required, never sent to the customer)', 'appr.customer_message': 'Message to the customer (optional, on reject only)',
    'appr.approve': 'Approve {amount}', 'appr.reject': 'Reject', 'appr.need_reason': 'Write the reason for your decision first.',
    'appr.confirm_title': 'Confirm a refund of {amount}', 'appr.confirm_note': 'Money moves now: {amount} to {name}, order #{order}, back the way it was paid ({rail}). This cannot be undone.',
    'appr.confirm': 'Refund {amount}', 'appr.approved': 'Approved: refund {id} is {status}.', 'appr.rejected': 'Rejected; the customer is told.',
    'appr.reject_title': 'Reject the refund of {amount}?', 'appr.reject_note': 'The customer gets the standard refusal message{extra}.', 'appr.reject_extra': ' and your message',
    'appr.guard.over_per_refund_cap': 'over the per-refund cap', 'appr.guard.over_window_cap': 'over the window cap',
    'rcpt.title': 'Verify a receipt', 'rcpt.hint': 'Each case is a hash chain sealed with an Ed25519 signature. Receipt ids (rcp_…) are in the transcripts and in the customer\'s WhatsApp message.',
    'rcpt.id': 'Receipt id', 'rcpt.verify': 'Verify', 'rcpt.ok': '{records} records chained, {sealed}', 'rcpt.sealed': 'sealed ({outcome}) and the signature checks with key {key}',
    'rcpt.unsealed': 'not sealed yet', 'rcpt.offline': 'Anyone can check it offline: npm run verify -- ', 'rcpt.key': 'public key',
    'stats.days': 'Refunds per day', 'stats.days.summary': '{count} refund(s) in 14 days, {amount} settled', 'stats.days.y': 'refunds', 'stats.days.x': 'day of the month',
    'stats.caps': 'Cap usage per mandate', 'stats.caps.hint': 'Refunds in each mandate\'s rolling window against its cap.', 'stats.caps.of': '{used} of {cap} · {pct}%',
    'stats.latency': 'Time to refund', 'stats.latency.summary': 'p50 {p50} · p95 {p95} · {count} settled refund(s), from the complaint to the money back',
    'stats.latency.y': 'refunds', 'stats.latency.x': 'time from complaint to settlement',
    'stats.reasons': 'Refunds by reason (30 days)', 'stats.handoffs': 'Handoffs to staff by reason (30 days)',
    'stats.waiting': 'Waiting time for a person (30 days)', 'stats.waiting.summary': 'p50 {p50} · p95 {p95} · {count} wait(s), {still} still waiting',
    'stats.waiting.x': 'time until someone took it', 'stats.waiting.y': 'conversations', 'stats.count': '{count}', 'stats.none': 'no data yet', 'stats.other': 'other',
    'admin.prompt': 'System prompt', 'admin.prompt.note': 'What changed and why', 'admin.prompt.save': 'Save as new version', 'admin.versions': 'Versions (newest first)',
    'admin.diff.pick': 'Pick a version to see what it changed', 'admin.prompt.text': 'Prompt text',
    'admin.mandates': 'Mandates', 'admin.mandates.hint': 'What each agent may refund, signed. Pause, resume and revoke take effect on the very next refund; new caps are a new signed version.',
    'admin.mandate': 'Mandate', 'admin.agent': 'Agent', 'admin.status': 'Status', 'admin.per_refund': 'Per refund', 'admin.window_cap': 'Window cap', 'admin.used': 'Used in window', 'admin.signature': 'Signature', 'admin.actions': 'Actions',
    'admin.issue': 'Issue a mandate', 'admin.issue.submit': 'Issue and sign', 'admin.mandate.id': 'id (cm_…)', 'admin.mandate.agent': 'agent id (support-agent)',
    'admin.mandate.per': 'per refund (R$)', 'admin.mandate.window': 'per 24 h (R$)',
    'admin.pause': 'Pause', 'admin.resume': 'Resume', 'admin.revoke': 'Revoke', 'admin.caps': 'Change caps', 'admin.reason': 'Reason (kept in the audit trail)',
    'admin.revoke.note': 'A revoked mandate cannot be resumed: the next refund under it is refused. Issue a new one to start over.',
    'admin.caps.note': 'A new version is signed; the old one stays for the audit trail.', 'admin.resign': 'Re-sign',
    'admin.users': 'Users', 'admin.user.add': 'Add a user', 'admin.user.name': 'Name', 'admin.user.email': 'Email', 'admin.user.role': 'Role',
    'admin.user.password': 'password (blank: generate one)', 'admin.user.you': 'you', 'admin.user.disable': 'Disable', 'admin.user.enable': 'Enable',
    'admin.user.shown_once': 'Their password (shown once; hand it over privately)', 'admin.user.added': 'User added.',
    'admin.canned': 'Canned replies', 'admin.canned.hint': 'Portuguese texts for staff. Variables: {vars}.', 'admin.canned.title': 'Title', 'admin.canned.body': 'Text',
    'admin.canned.add': 'Add reply', 'admin.canned.edit': 'Edit', 'admin.canned.archive': 'Archive', 'admin.canned.saved': 'Canned reply saved.',
    'active': 'active', 'paused': 'paused', 'revoked': 'revoked', 'expired': 'expired', 'disabled': 'disabled', 'signature_ok': 'signature ok', 'signature_bad': 'bad signature',
    'cancel': 'Cancel', 'ok': 'OK', 'done': 'Done', 'current': '(current)', 'rollback': 'Roll back to this', 'rollback.default': 'Roll back to default',
    'prompt.in_use': 'in use: v{id} by {author}, {date}', 'prompt.default': 'in use: the shipped default (v0)', 'prompt.model': 'model: {model}',
    'prompt.scripted': 'scripted model', 'prompt.scripted_note': 'The sandbox runs the scripted model, a fixed deterministic policy: prompt edits are stored and versioned but have no effect on it. Set ANTHROPIC_API_KEY to use Claude.',
    'prompt.v0': 'v0: the shipped default (prompts/system.md)', 'prompt.saved': 'Saved as v{id}; the next turn uses it.', 'prompt.rolled': 'Rolled back to v{id} (as a new version).',
    'prompt.click': 'click for the diff', 'prompt.diff_title': 'v{id} by {author}, {date}{note} (against the version before it)',
    'error.generic': 'Something went wrong: {message}',
    'err.not_taken_over': 'Click Take over before replying.', 'err.illegal_transition': 'The conversation changed state; refresh and try again.',
    'err.amount_mismatch': 'The amount changed since you opened it; reload the approval.', 'err.not_pending': 'This approval was already decided.',
    'err.expired': 'This approval expired.', 'err.refused': 'The guard refused the refund.', 'err.csrf': 'Stale session; reload the page.',
    'err.forbidden': 'Admins only.', 'err.unknown_user': 'Unknown or disabled user.', 'err.erp_unavailable': 'The ERP did not answer; try again.',
    'err.not_found': 'Not found.', 'err.too_many_attempts': 'Too many attempts; wait 15 minutes.',
    'eval.none': ' · not evaluated (npm run eval)', 'eval.badge': 'eval pass^{k} {pass} · {passed}/{total} · {model} · {date}',
    'eval.worse_title': 'Publish a prompt that evaluated worse?', 'eval.publish_anyway': 'Publish anyway',
  },
};

export const LANGS = [['pt-BR', 'Português (Brasil)'], ['en', 'English']];
let lang = 'pt-BR';
try {
  const saved = localStorage.getItem('estorno.lang');
  if (saved && DICT[saved]) lang = saved;
} catch {
  // storage blocked: pt-BR
}

export const currentLang = () => lang;
export function setLang(next) {
  if (!DICT[next]) return;
  lang = next;
  try {
    localStorage.setItem('estorno.lang', next);
  } catch {
    // not kept across reloads
  }
}

/** The text for `key` in the current language (pt-BR when missing), with `{name}` filled from `vars`. */
export function t(key, vars = {}) {
  const text = DICT[lang][key] ?? DICT['pt-BR'][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Fills elements marked `data-i18n` (text), `data-i18n-placeholder`, `data-i18n-label` (aria-label) and `data-i18n-title`. */
export function translatePage(root = document) {
  document.documentElement.lang = lang;
  for (const n of root.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
  for (const n of root.querySelectorAll('[data-i18n-placeholder]')) n.setAttribute('placeholder', t(n.dataset.i18nPlaceholder));
  for (const n of root.querySelectorAll('[data-i18n-label]')) n.setAttribute('aria-label', t(n.dataset.i18nLabel));
  for (const n of root.querySelectorAll('[data-i18n-title]')) n.setAttribute('title', t(n.dataset.i18nTitle));
}

// Money is always reais; dates in the chosen locale, in São Paulo time.
const moneyFmt = () => new Intl.NumberFormat(lang, { style: 'currency', currency: 'BRL' });
export const money = (cents) => (Number.isInteger(cents) ? moneyFmt().format(cents / 100) : '—');
export const when = (iso) => (iso ? new Date(iso).toLocaleString(lang, { dateStyle: 'short', timeStyle: 'short', timeZone: 'America/Sao_Paulo' }) : '');
export const day = (iso) => (iso ? new Date(iso).toLocaleDateString(lang, { dateStyle: 'short', timeZone: 'America/Sao_Paulo' }) : '');
/** A time of day for today, else a short date: what a chat list shows. */
export function shortWhen(iso, now = new Date()) {
  if (!iso) return '';
  const d = new Date(iso);
  const sameDay = d.toLocaleDateString('en-CA', { timeZone: 'America/Sao_Paulo' }) === now.toLocaleDateString('en-CA', { timeZone: 'America/Sao_Paulo' });
  return sameDay
    ? d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', timeZone: 'America/Sao_Paulo' })
    : d.toLocaleDateString(lang, { day: '2-digit', month: '2-digit', timeZone: 'America/Sao_Paulo' });
}
/** "45 s", "12 min", "2 h 5 min", "3 d" in the current locale's units. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const unit = (value, u) => new Intl.NumberFormat(lang, { style: 'unit', unit: u, unitDisplay: 'short', maximumFractionDigits: 0 }).format(value);
  const s = Math.round(seconds);
  if (s < 60) return unit(s, 'second');
  if (s < 3600) return unit(Math.floor(s / 60), 'minute');
  if (s < 86_400) {
    const m = Math.floor((s % 3600) / 60);
    return `${unit(Math.floor(s / 3600), 'hour')}${m ? ` ${unit(m, 'minute')}` : ''}`;
  }
  return unit(Math.floor(s / 86_400), 'day');
}
export const number = (n) => new Intl.NumberFormat(lang).format(n);
