import { describe, expect, it } from 'vitest';
import { testServices } from '../../helpers/services.ts';

describe('afterCommit (data/sql.ts, both stores)', () => {
  it('runs after the commit, never after a rollback, and at once outside a transaction', async () => {
    const { store } = await testServices();
    const seen: string[] = [];
    await store.tx(async () => store.database.afterCommit(() => seen.push('committed')));
    await expect(store.tx(async () => {
      store.database.afterCommit(() => seen.push('rolled back'));
      throw new Error('rollback');
    })).rejects.toThrow('rollback');
    store.database.afterCommit(() => seen.push('outside'));
    expect(seen).toEqual(['committed', 'outside']);
    await store.close();
  });

  it('a conversation created in a transaction that rolls back is not cached: the chat gets a stored one next time', async () => {
    const { store } = await testServices();
    const at = new Date().toISOString();
    let lost = '';
    await expect(store.tx(async () => {
      lost = await store.conversations.ensureId('5511977776666', '5511977776666', at);
      throw new Error('one bad apple');
    })).rejects.toThrow('one bad apple');
    expect(await store.conversations.get(lost)).toBeUndefined();
    const id = await store.conversations.ensureId('5511977776666', '5511977776666', at);
    expect(await store.conversations.get(id)).toMatchObject({ chat_id: '5511977776666' });
    await store.close();
  });
});
