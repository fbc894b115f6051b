import type { Sql } from './sql.ts';

/**
 * Leases held by a process that is gone. At start a process gives back what
 * its previous life held (its owner names start with a prefix stable per DATA_DIR): jobs,
 * messages and turns are free again at once instead of after their lease, and
 * a refund it was submitting counts as expired, so recovery asks the rail about
 * it first (never sends it blind). With no owner (SQLite: one process per
 * database, by the data-dir lock) every lease is given back.
 */
export function leasesRepo(sql: Sql) {
  return {
    async releaseHeldBy(ownerPrefix: string | null, now: string): Promise<{ jobs: number; outbox: number; turns: number; refunds: number }> {
      // An owner is `<prefix>:<nonce>`: every earlier life of this prefix matches.
      const prefix = ownerPrefix === null ? '' : `${ownerPrefix}:`;
      const mine = ownerPrefix === null ? '' : ' AND substr(lease_owner, 1, ?) = ?';
      const args = ownerPrefix === null ? [] : [prefix.length, prefix];
      const jobs = await sql.run(`UPDATE jobs SET lease_until = NULL, lease_owner = NULL WHERE status = 'pending' AND lease_owner IS NOT NULL${mine}`, ...args);
      const outbox = await sql.run(`UPDATE outbox SET lease_until = NULL, lease_owner = NULL WHERE status = 'pending' AND lease_owner IS NOT NULL${mine}`, ...args);
      const turns = await sql.run(`UPDATE conversations SET turn_lease_until = NULL, turn_lease_owner = NULL WHERE turn_lease_owner IS NOT NULL${ownerPrefix === null ? '' : ' AND substr(turn_lease_owner, 1, ?) = ?'}`, ...args);
      const refunds = await sql.run(`UPDATE refunds SET lease_until = ? WHERE status = 'submitting' AND lease_until > ?${mine}`, now, now, ...args);
      return { jobs, outbox, turns, refunds };
    },
  };
}
