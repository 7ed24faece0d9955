/**
 * Second factors and recovery codes of accounts, in the store. Kysely builders only; the rules
 * live in src/node/people/factors.ts.
 */
import type { RecoveryCodesTable, SecondFactorsTable } from './schema.ts';
import type { Executor, Store } from './store.ts';

export type FactorRow = SecondFactorsTable;
export type RecoveryCodeRow = RecoveryCodesTable;

/** PostgreSQL answers `bigint` columns as strings. */
function numbers(row: FactorRow): FactorRow {
  return {
    ...row,
    totp_last_step: row.totp_last_step === null ? null : Number(row.totp_last_step),
    counter: row.counter === null ? null : Number(row.counter),
  };
}

export class FactorStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  get db(): Executor {
    return this.#store.db;
  }

  /** The factors of a user, oldest first; pending TOTP secrets too unless `confirmed`. */
  async factors(user: string, confirmed = false, q: Executor = this.db): Promise<FactorRow[]> {
    let query = q.selectFrom('second_factors').selectAll().where('user_name', '=', user);
    if (confirmed) query = query.where('confirmed_at', 'is not', null);
    return (await query.orderBy('created_at').orderBy('id').execute()).map(numbers);
  }

  async factor(id: string, q: Executor = this.db): Promise<FactorRow | undefined> {
    const row = await q
      .selectFrom('second_factors')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && numbers(row);
  }

  /** TOTP rows whose secret is still in the clear (written before secrets were sealed). */
  async clearTotpSecrets(
    q: Executor = this.db,
  ): Promise<Array<{ id: string; user_name: string; totp_secret: string }>> {
    const rows = await q
      .selectFrom('second_factors')
      .select(['id', 'user_name', 'totp_secret'])
      .where('kind', '=', 'totp')
      .where('totp_secret', 'is not', null)
      .where('totp_secret', 'not like', 'v1.%')
      .execute();
    return rows.map((r) => ({ ...r, totp_secret: r.totp_secret as string }));
  }

  async addFactor(row: FactorRow, q: Executor = this.db): Promise<void> {
    await q.insertInto('second_factors').values(row).execute();
  }

  async updateFactor(
    id: string,
    set: Partial<Omit<FactorRow, 'id' | 'user_name'>>,
    q: Executor = this.db,
  ): Promise<void> {
    await q.updateTable('second_factors').set(set).where('id', '=', id).execute();
  }

  /**
   * Records a TOTP code's step as used, only if it is later than the last one: false when another
   * request used this step (or a later one) first, so one code is accepted once.
   */
  async spendTotpStep(id: string, step: number, at: string, q: Executor = this.db) {
    const result = await q
      .updateTable('second_factors')
      .set({ totp_last_step: step, last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async removeFactors(
    where: { id: string } | { user: string; pending?: true },
    q: Executor = this.db,
  ): Promise<number> {
    let query = q.deleteFrom('second_factors');
    if ('id' in where) query = query.where('id', '=', where.id);
    else {
      query = query.where('user_name', '=', where.user);
      if (where.pending) query = query.where('confirmed_at', 'is', null);
    }
    return Number((await query.executeTakeFirst()).numDeletedRows);
  }

  // recovery codes

  async replaceRecoveryCodes(
    user: string,
    hashes: readonly string[],
    at: string,
    q: Executor = this.db,
  ): Promise<void> {
    await q.deleteFrom('recovery_codes').where('user_name', '=', user).execute();
    if (hashes.length)
      await q
        .insertInto('recovery_codes')
        .values(
          hashes.map((code_hash) => ({
            code_hash,
            user_name: user,
            created_at: at,
            used_at: null,
          })),
        )
        .execute();
  }

  /** Marks a recovery code used; false when it is not this user's or was used already. */
  async spendRecoveryCode(user: string, hash: string, at: string, q: Executor = this.db) {
    const result = await q
      .updateTable('recovery_codes')
      .set({ used_at: at })
      .where('code_hash', '=', hash)
      .where('user_name', '=', user)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recoveryCodesLeft(user: string, q: Executor = this.db): Promise<number> {
    const row = await q
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_name', '=', user)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
