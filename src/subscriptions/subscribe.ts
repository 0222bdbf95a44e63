import { JobhookError } from '../errors.js';
import type { Platform } from '../ringcentral/platform.js';
import { PlatformNetworkError } from '../ringcentral/platform.js';
import type { SubscriptionStore } from '../store/store.js';
import type { SubscriptionInput, SubscriptionRecord } from '../types.js';
import {
  clampExpiresIn,
  createSubscription,
  deleteSubscription,
  listSubscriptions,
  MAX_EXPIRES_IN_S,
  type SubscriptionInfo,
} from './subscription-api.js';

/**
 * Creating and deleting a kept subscription (`jobhook subscribe` / `unsubscribe`). The record is saved
 * `Pending` before the platform is called (write-ahead): a process that dies during the create leaves a
 * record the keeper finishes (it adopts what the create left on the platform, or creates it), never a
 * platform subscription nobody knows about.
 */
export interface SubscribeOptions {
  platform: Platform;
  store: Pick<SubscriptionStore, 'saveSubscription' | 'findSubscription' | 'removeSubscription'>;
  /** Mints the delivery address (a subscription URL) and its verification token, recorded first. */
  mint: () => Promise<{ requestId: string; callbackUrl: string; verificationToken: string }>;
  name: string;
  eventFilters: readonly string[];
  /** Asked lifetime, clamped to `maxExpiresInS`. */
  expiresInS: number;
  /** @defaultValue 315_360_000 */
  maxExpiresInS?: number;
  /** Replace a kept subscription of the same name (deleted on the platform first). @defaultValue false */
  replace?: boolean;
}

export interface Subscribed {
  record: SubscriptionRecord;
  info: SubscriptionInfo;
  /** The lifetime asked for was above the maximum and was clamped to it. */
  clamped: boolean;
}

/**
 * Mints an address, saves the record `Pending`, creates the subscription and saves the platform's answer.
 * A refusal saves the record `Failed` with the error (a running keeper tries again every round) and throws.
 *
 * @example
 * const { record } = await subscribe({ platform, store, mint, name: 'ace', eventFilters, expiresInS: MAX_EXPIRES_IN_S });
 */
export async function subscribe(options: SubscribeOptions): Promise<Subscribed> {
  const { platform, store, name } = options;
  const existing = await store.findSubscription(name);
  if (existing) {
    if (!options.replace) {
      throw new JobhookError(
        'JH_ERR_INVALID_ARGUMENT',
        `a subscription named ${name} is kept already (${existing.status}${existing.platformId ? `, platform id ${existing.platformId}` : ''}); pass --replace to replace it, or --name to choose another name`,
      );
    }
    // Deleted first, with any copy at its address: once the new record replaces it, nothing would know them.
    await unsubscribe({ platform, store, nameOrPlatformId: name });
  }
  const maxExpiresInS = options.maxExpiresInS ?? MAX_EXPIRES_IN_S;
  const expiresIn = clampExpiresIn(options.expiresInS, maxExpiresInS);
  const minted = await options.mint();
  const pending: SubscriptionInput = {
    name,
    requestId: minted.requestId,
    eventFilters: [...options.eventFilters],
    expiresIn,
    platformId: null,
    address: minted.callbackUrl,
    status: 'Pending',
    expiresAt: null,
    disabledFilters: [],
    blacklistedData: null,
    lastError: null,
    checkedAt: null,
  };
  await store.saveSubscription(pending);
  let info: SubscriptionInfo;
  try {
    info = await createSubscription(platform, {
      eventFilters: options.eventFilters,
      address: minted.callbackUrl,
      verificationToken: minted.verificationToken,
      expiresInS: expiresIn,
      maxExpiresInS,
    });
  } catch (error) {
    // A create that may have reached the platform stays Pending: the keeper adopts it if it was made.
    const unsure = error instanceof PlatformNetworkError && error.mayHaveReachedPlatform;
    const message = error instanceof Error ? error.message : String(error);
    await store.saveSubscription({ ...pending, status: unsure ? 'Pending' : 'Failed', lastError: message });
    throw error;
  }
  const record = await store.saveSubscription({
    ...pending,
    platformId: info.id,
    status: info.status,
    address: info.address ?? minted.callbackUrl,
    expiresAt: info.expirationTime,
    disabledFilters: info.disabledFilters,
    blacklistedData: info.blacklistedData,
    checkedAt: new Date().toISOString(),
  });
  return { record, info, clamped: expiresIn < Math.floor(options.expiresInS) };
}

export interface Unsubscribed {
  record: SubscriptionRecord;
  /** Platform ids deleted: the kept one and any an interrupted create or move left at its address. */
  deleted: string[];
}

/**
 * Deletes the kept subscription `nameOrPlatformId` on the platform (404: already gone, fine), with any
 * other platform subscription delivering to its address, then forgets it.
 */
export async function unsubscribe(options: {
  platform: Platform;
  store: Pick<SubscriptionStore, 'findSubscription' | 'removeSubscription'>;
  nameOrPlatformId: string;
}): Promise<Unsubscribed> {
  const { platform, store } = options;
  const record = await store.findSubscription(options.nameOrPlatformId);
  if (!record) {
    throw new JobhookError(
      'JH_ERR_NOT_FOUND',
      `no kept subscription has the name or platform id ${options.nameOrPlatformId}; list them with \`jobhook subscriptions\``,
    );
  }
  const ids = new Set(record.platformId ? [record.platformId] : []);
  // The request id is in the path of every address this subscription ever had (any public URL).
  for (const info of await listSubscriptions(platform)) {
    if (info.address !== null && pathHas(info.address, record.requestId)) ids.add(info.id);
  }
  const deleted: string[] = [];
  for (const id of ids) if (await deleteSubscription(platform, id)) deleted.push(id);
  await store.removeSubscription(record.name);
  return { record, deleted };
}

function pathHas(address: string, requestId: string): boolean {
  try {
    return new URL(address).pathname.split('/').includes(requestId);
  } catch {
    return false;
  }
}
