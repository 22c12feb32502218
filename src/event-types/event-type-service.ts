import {
  DEFAULT_LOCKING_DAYS,
  eventTypeProblems,
  MAX_EVENT_TYPE_ID,
  type DispositionCode,
  type EventType,
  type PayoutRule,
} from '../core/event-type';
import { conflict, invalid, notFound } from '../http/admin-errors';
import type { AfterChange } from '../store/after-change';
import type { CampaignStore } from '../store/campaign-store';
import { classifyDatabaseError } from '../store/database-errors';
import type { EventTypeChanges, EventTypeStore } from '../store/event-type-store';
import { retryingLockConflicts } from '../store/lock-retries';
import type { UnitOfWork } from '../store/unit-of-work';

/** An event type an admin creates; `lockingDays` defaults to 30, `dispositionCodes` to none. */
export interface EventTypeCreateInput {
  id?: number;
  campaignId: number;
  name: string;
  lockingDays?: number;
  payout: PayoutRule;
  dispositionCodes?: DispositionCode[];
}

/** Dependencies of the event type service. */
export interface EventTypeServiceDeps {
  units: UnitOfWork;
  eventTypes: EventTypeStore;
  campaigns: CampaignStore;
  /** Told once a change of an event type has committed (the rules' cache forgets it). */
  onChanged?: (id: number) => void;
  now?: () => number;
}

/** Refuses settings the shape alone cannot catch, with the same field names as the API's validation. */
function checkSettings(settings: EventTypeChanges): void {
  const problems = eventTypeProblems(settings);
  if (problems.length > 0) throw invalid(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
}

/**
 * Event types (impact ActionTrackerIds) behind the admin API, the CLI and the console. Each write is one
 * unit of work (the type and its codes together, with the console's audit row when given), retried on
 * lock conflicts as the admin service's writes are.
 */
export class EventTypeService {
  private readonly now: () => number;

  constructor(private readonly deps: EventTypeServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The event type, or null: a plain store read (impact's rules call it per chunk of file rows). */
  async get(id: number): Promise<EventType | null> {
    return this.deps.eventTypes.get(id);
  }

  /** The event type, or a 404. */
  async getExisting(id: number): Promise<EventType> {
    return (await this.deps.eventTypes.get(id)) ?? Promise.reject(notFound(`event type ${id}`));
  }

  /** Event types ordered by id, optionally of one campaign. */
  async list(filter: { campaignId?: number; limit?: number } = {}): Promise<EventType[]> {
    return this.deps.eventTypes.list({ campaignId: filter.campaignId, limit: filter.limit ?? 1000 });
  }

  /**
   * Creates an event type on an existing campaign (400 otherwise), keeping a supplied id (409 when
   * taken, also when a concurrent create with it wins the race). `afterChange` commits with it.
   */
  async create(input: EventTypeCreateInput, afterChange?: AfterChange<EventType>): Promise<EventType> {
    const settings = {
      ...input,
      lockingDays: input.lockingDays ?? DEFAULT_LOCKING_DAYS,
      dispositionCodes: input.dispositionCodes ?? [],
    };
    checkSettings(settings);
    const taken = `event type ${input.id} already exists`;
    try {
      return await retryingLockConflicts(() =>
        this.deps.units.run(async (sql) => {
          if (!(await this.deps.campaigns.getIn(sql, settings.campaignId)))
            throw invalid(`campaign ${settings.campaignId} does not exist`);
          if (settings.id && (await this.deps.eventTypes.getIn(sql, settings.id))) throw conflict(taken);
          const created = await this.deps.eventTypes.create(sql, settings, this.now());
          // Auto-increment continues above the largest id, which a supplied id may have pushed to the top.
          if (created.id > MAX_EVENT_TYPE_ID)
            throw invalid(`no event type id is left below ${MAX_EVENT_TYPE_ID}: give an id`);
          await afterChange?.(sql, created);
          return created;
        }),
      );
    } catch (error) {
      if (classifyDatabaseError(error) === 'duplicate_key') throw conflict(taken);
      throw error;
    }
  }

  /** Changes name, locking period, payout or codes (replacing the list); 404 when absent. */
  async update(id: number, changes: EventTypeChanges, afterChange?: AfterChange<EventType>): Promise<EventType> {
    checkSettings(changes);
    const updated = await retryingLockConflicts(() =>
      this.deps.units.run(async (sql) => {
        if (!(await this.deps.eventTypes.existsForUpdate(sql, id))) throw notFound(`event type ${id}`);
        const updated = await this.deps.eventTypes.update(sql, id, changes, this.now());
        if (!updated) throw notFound(`event type ${id}`);
        await afterChange?.(sql, updated);
        return updated;
      }),
    );
    this.deps.onChanged?.(id);
    return updated;
  }
}
