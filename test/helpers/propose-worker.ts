import { JOAO, MARINA } from '../../sandbox/seed.ts';
import { proposeRefund } from '../../refunds/guard.ts';
import { executeRefund } from '../../refunds/refund-flow.ts';
import { testServices } from './services.ts';

/**
 * A separate process proposing refunds against a shared database file, for
 * the multi-process concurrency test. Prints a JSON summary on stdout.
 * usage: node propose-worker.ts <dataDir> <count> <mandateId> <seed>
 */
const [dataDir, countArg, mandateId, seedArg] = process.argv.slice(2);
let seed = Number(seedArg);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const { services, store } = await testServices({ dataDir: dataDir as string, seedMandates: false });
const plan = [
  { phone: MARINA.whatsapp, order: '8421' },
  { phone: MARINA.whatsapp, order: '8424' },
  { phone: JOAO.whatsapp, order: '9001' },
];
let allowed = 0;
let refused = 0;
const count = Number(countArg);
for (let i = 0; i < count; i += 8) {
  await Promise.all(
    Array.from({ length: Math.min(8, count - i) }, async () => {
      const p = plan[Math.floor(random() * plan.length)]!;
      const conversation = await store.conversations.ensure(p.phone, p.phone, new Date().toISOString());
      const decision = await proposeRefund(
        services,
        { id: 'support-agent', mandateId: mandateId as string, conversation, toolUseId: null },
        { orderNumber: p.order, amountCents: 1 + Math.floor(random() * 3000), reason: 'concurrency' },
      );
      if (decision.ok) {
        allowed++;
        await executeRefund(services, decision.refund.id);
      } else refused++;
    }),
  );
}
await store.close();
process.stdout.write(JSON.stringify({ allowed, refused }));
