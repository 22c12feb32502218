import type { AfterChange } from '../store/after-change';
import { classifyDatabaseError } from '../store/database-errors';
import { retryingLockConflicts } from '../store/lock-retries';
import type { Merchant, MerchantStore } from '../store/merchant-store';
import type { UnitOfWork } from '../store/unit-of-work';
import { conflict, invalid, notFound } from '../http/admin-errors';

export interface MerchantServiceDeps {
  units: UnitOfWork;
  merchants: MerchantStore;
  now?: () => number;
}

/** What creating or changing a merchant may say; `campaignIds` replaces the list it owns. */
export interface MerchantInput {
  name?: string;
  selfService?: boolean;
  campaignIds?: number[];
}

/**
 * Merchants (brands) and the campaigns each owns, behind the admin API and the console. A campaign belongs
 * to at most one merchant: giving a merchant a campaign another one owns is a 409 naming both, never a
 * silent move. Each write is one unit of work (with the console's audit row when given), retried on lock
 * conflicts like every admin write.
 */
export class MerchantService {
  private readonly now: () => number;

  constructor(private readonly deps: MerchantServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  list(): Promise<Merchant[]> {
    return this.deps.merchants.list();
  }

  async get(id: number): Promise<Merchant> {
    return (await this.deps.merchants.getIn(this.deps.units.alone, id)) ?? Promise.reject(notFound(`merchant ${id}`));
  }

  async create(
    input: MerchantInput & { id?: number; name: string },
    afterChange?: AfterChange<Merchant>,
  ): Promise<Merchant> {
    try {
      return await retryingLockConflicts(() =>
        this.deps.units.run(async (sql) => {
          const now = this.now();
          const id = await this.deps.merchants.create(
            sql,
            { id: input.id, name: input.name, selfService: input.selfService ?? false },
            now,
          );
          return this.finish(sql, id, input.campaignIds, now, afterChange);
        }),
      );
    } catch (error) {
      if (classifyDatabaseError(error) === 'duplicate_key') throw conflict(`merchant ${input.id} already exists`);
      throw error;
    }
  }

  async update(id: number, input: MerchantInput, afterChange?: AfterChange<Merchant>): Promise<Merchant> {
    return retryingLockConflicts(() =>
      this.deps.units.run(async (sql) => {
        const now = this.now();
        if (!(await this.deps.merchants.update(sql, id, { name: input.name, selfService: input.selfService }, now)))
          throw notFound(`merchant ${id}`);
        return this.finish(sql, id, input.campaignIds, now, afterChange);
      }),
    );
  }

  private async finish(
    sql: Parameters<AfterChange<Merchant>>[0],
    id: number,
    campaignIds: number[] | undefined,
    now: number,
    afterChange: AfterChange<Merchant> | undefined,
  ): Promise<Merchant> {
    if (campaignIds !== undefined) {
      const wanted = [...new Set(campaignIds)].sort((a, b) => a - b);
      const owners = await this.deps.merchants.campaignOwnersForUpdate(sql, wanted);
      const missing = wanted.filter((campaignId) => !owners.has(campaignId));
      if (missing.length > 0) throw invalid(`campaignIds: campaign ${missing.join(', ')} does not exist`);
      const taken = wanted.filter((campaignId) => ![null, id].includes(owners.get(campaignId) ?? null));
      if (taken.length > 0)
        throw conflict(
          taken.map((campaignId) => `campaign ${campaignId} belongs to merchant ${owners.get(campaignId)}`).join('; '),
        );
      await this.deps.merchants.assignCampaigns(sql, id, wanted, now);
    }
    const merchant = await this.deps.merchants.getIn(sql, id);
    if (!merchant) throw new Error(`merchant ${id} vanished inside its own unit of work`);
    await afterChange?.(sql, merchant);
    return merchant;
  }
}
