import type { Logger } from 'pino';
import { callbackUrl, verifyMintedPath, type Keyring } from '../callback/callback-url.js';
import { verificationTokenFor } from '../callback/verification-token.js';
import type { Platform } from '../ringcentral/platform.js';
import { PlatformNetworkError } from '../ringcentral/platform.js';
import type { SubscriptionStore } from '../store/store.js';
import type { SubscriptionInput, SubscriptionRecord } from '../types.js';
import {
  createSubscription,
  deleteSubscription,
  renewSubscription,
  type SubscriptionInfo,
} from './subscription-api.js';
import { pathOf, sameAddress } from './filters.js';

/**
 * One keeper round's work on one kept subscription, and the removal of duplicates (keeper.ts runs the
 * rounds). Each step is logged with the subscription's name and platform id; a failed platform call is
 * saved as the record's `lastError` and left for the next round.
 *
 * Every save re-reads the record first and gives up when it changed or vanished meanwhile (`jobhook
 * unsubscribe` or `subscribe --replace` in another process): a keeper must never resurrect a subscription
 * the user removed. A platform subscription created for a record that vanished is deleted again.
 */
export interface RoundContext {
  platform: Platform;
  store: SubscriptionStore;
  keyring: Keyring;
  publicUrl: string;
  pathPrefix: string;
  logger: Logger;
  nowMs: number;
  intervalMs: number;
  subscriptionLimit: number;
  maxExpiresInS: number;
  pendingGraceMs: number;
  /** The platform's list at the start of the round; `count` follows the creates and deletes since. */
  list: SubscriptionInfo[];
  count: number;
  /** Platform ids this round deleted (the duplicate pass skips them). */
  deleted: Set<string>;
  /** Lifetime the platform granted at the last create or renew seen by this process, by platform id. */
  granted: Map<string, number>;
  /** Platform ids to renew whatever their expiry (a renewal reminder arrived). */
  renewNow: Set<string>;
  /** Names whose re-creation was asked for in this process: no grace for a fresh `Pending`. */
  forced: Set<string>;
  /** Starts the backfill of the window a re-created subscription was not delivering. */
  backfill(record: SubscriptionRecord, reason: string): void;
}

/** Why a subscription is re-created: the backfill follows the first three. */
type Cause = 'gone' | 'not-active' | 'moved' | 'requested' | 'new';

const inputOf = (r: SubscriptionRecord): SubscriptionInput => ({
  name: r.name,
  requestId: r.requestId,
  eventFilters: r.eventFilters,
  expiresIn: r.expiresIn,
  platformId: r.platformId,
  address: r.address,
  status: r.status,
  expiresAt: r.expiresAt,
  disabledFilters: r.disabledFilters,
  blacklistedData: r.blacklistedData,
  lastError: r.lastError,
  checkedAt: r.checkedAt,
});

/** Saves `patch` over `seen` unless the stored record changed since; the new record, or null. */
async function save(
  ctx: RoundContext,
  seen: SubscriptionRecord,
  patch: Partial<SubscriptionInput>,
): Promise<SubscriptionRecord | null> {
  const current = await ctx.store.findSubscription(seen.name);
  if (!current || current.name !== seen.name || current.updatedAt !== seen.updatedAt) {
    ctx.logger.info({ subscription: seen.name }, 'subscription changed or removed meanwhile; not saved');
    return null;
  }
  return ctx.store.saveSubscription({ ...inputOf(current), ...patch });
}

export function addressOf(ctx: RoundContext, record: SubscriptionRecord): string {
  return callbackUrl(ctx.keyring, ctx.publicUrl, ctx.pathPrefix, record.requestId, 'subscription');
}

/** The fields of a record the platform's answer sets. */
function fromInfo(ctx: RoundContext, info: SubscriptionInfo): Partial<SubscriptionInput> {
  return {
    platformId: info.id,
    status: info.status,
    address: info.address,
    expiresAt: info.expirationTime,
    disabledFilters: info.disabledFilters,
    blacklistedData: info.blacklistedData,
    lastError: null,
    checkedAt: new Date(ctx.nowMs).toISOString(),
  };
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export function warnDisabled(logger: Logger, record: { name: string }, info: SubscriptionInfo): void {
  for (const d of info.disabledFilters) {
    logger.warn(
      { subscription: record.name, platformId: info.id, filter: d.filter, reason: d.reason, message: d.message },
      'the platform disabled a filter of this subscription: its events will not arrive (for ACE: the RingSense app scope and the ReadRingSenseInsights permission; see jobhook doctor)',
    );
  }
}

/** Deletes a platform subscription; a failure is logged (the duplicate pass tries again next round). */
async function remove(ctx: RoundContext, name: string, id: string, why: string): Promise<void> {
  try {
    const existed = await deleteSubscription(ctx.platform, id);
    ctx.deleted.add(id);
    if (existed) ctx.count--;
    ctx.logger.info({ subscription: name, platformId: id, why }, 'deleted the old subscription on the platform');
  } catch (error) {
    ctx.logger.warn({ subscription: name, platformId: id, err: error }, 'could not delete a subscription; next round');
  }
}

/** Creates the record's subscription at the current address; the saved record, or null (see lastError). */
async function create(ctx: RoundContext, record: SubscriptionRecord, cause: Cause): Promise<SubscriptionRecord | null> {
  const log = ctx.logger.child({ subscription: record.name, platformId: record.platformId });
  if (ctx.count >= ctx.subscriptionLimit) {
    const lastError = `not created: the platform already holds ${ctx.count} subscriptions of this user and app (limit ${ctx.subscriptionLimit}, SUB-505); delete some`;
    log.error({ count: ctx.count }, lastError);
    await save(ctx, record, { lastError });
    return null;
  }
  const address = addressOf(ctx, record);
  let info: SubscriptionInfo;
  try {
    info = await createSubscription(ctx.platform, {
      eventFilters: record.eventFilters,
      address,
      verificationToken: verificationTokenFor(ctx.keyring, record.requestId),
      expiresInS: record.expiresIn,
      maxExpiresInS: ctx.maxExpiresInS,
    });
  } catch (error) {
    // A create that may have reached the platform stays Pending: the next round adopts what it left.
    const unsure = error instanceof PlatformNetworkError && error.mayHaveReachedPlatform;
    const status = record.status === 'Pending' && !unsure ? 'Failed' : record.status;
    log.warn({ err: error, cause }, 'creating the subscription failed; next round');
    await save(ctx, record, { status, lastError: messageOf(error) });
    throw error;
  }
  ctx.count++;
  if (info.expiresIn !== null) ctx.granted.set(info.id, info.expiresIn * 1000);
  const saved = await save(ctx, record, fromInfo(ctx, info));
  if (!saved) {
    await remove(ctx, record.name, info.id, 'its record was removed while it was created');
    return null;
  }
  log.info({ newPlatformId: info.id, at: originOf(address), status: info.status, cause }, 'created the subscription');
  warnDisabled(log, record, info);
  return saved;
}

/** A `Pending` record a create elsewhere (`jobhook subscribe`) may still be working on. */
export function isFreshPending(ctx: RoundContext, r: SubscriptionRecord): boolean {
  return r.platformId === null && r.status === 'Pending' && ctx.nowMs - Date.parse(r.updatedAt) < ctx.pendingGraceMs;
}

/** Keeps one subscription (see the per-subscription states in keeper.ts). */
export async function keepSubscription(ctx: RoundContext, record: SubscriptionRecord): Promise<void> {
  const log = ctx.logger.child({ subscription: record.name, platformId: record.platformId });
  const address = addressOf(ctx, record);
  const forced = ctx.forced.has(record.name);
  ctx.forced.delete(record.name);

  if (record.platformId === null || record.status === 'Pending' || record.status === 'Failed') {
    if (isFreshPending(ctx, record) && !forced) {
      log.debug('being created by another process; left alone this round');
      return;
    }
    if (record.platformId === null) {
      // Write-ahead: a create that reached the platform before its process died left a subscription here.
      // A record that was Gone or Blacklisted when its re-creation failed was not delivering: backfill after.
      const lost = record.status !== 'Pending' && record.status !== 'Failed';
      const left = ctx.list.find(
        (i) => i.status === 'Active' && sameAddress(i.address, address) && !ctx.deleted.has(i.id),
      );
      if (left) {
        log.info({ newPlatformId: left.id }, 'adopted the subscription an interrupted create left');
        if ((await save(ctx, record, fromInfo(ctx, left))) && lost) ctx.backfill(record, record.status);
        return;
      }
      if ((await create(ctx, record, lost ? 'gone' : 'new')) && lost) ctx.backfill(record, record.status);
      return;
    }
    // Re-creation asked for (the inspector's button): new first, then the old one, so no event is lost.
    const old = record.platformId;
    const atLimit = ctx.count >= ctx.subscriptionLimit;
    if (atLimit) await remove(ctx, record.name, old, 're-created (at the subscription limit: deleted first)');
    const made = await create(ctx, record, 'requested');
    if (made && !atLimit) await remove(ctx, record.name, old, 're-created');
    // Re-creating one that was blacklisted or gone (the usual reason to press the button): fill the gap.
    const before = ctx.list.find((i) => i.id === old);
    if (made && before?.status !== 'Active') ctx.backfill(record, before?.status ?? 'gone');
    return;
  }

  const info = ctx.list.find((i) => i.id === record.platformId);
  if (!info) {
    log.warn('the subscription is not on the platform any more (expired and purged, or deleted); re-creating');
    const gone = await save(ctx, record, {
      status: 'Gone',
      platformId: null,
      lastError: 'not on the platform any more (expired, or deleted elsewhere)',
    });
    if (gone && (await create(ctx, gone, 'gone'))) ctx.backfill(record, 'gone');
    return;
  }
  if (info.status !== 'Active') {
    log.warn(
      { status: info.status, blacklistedData: info.blacklistedData },
      'the subscription is not Active; re-creating',
    );
    const bad = await save(ctx, record, {
      status: info.status,
      blacklistedData: info.blacklistedData,
      lastError: `${info.status} on the platform${reasonOf(info)}`,
    });
    if (!bad) return;
    // The platform does not reactivate it (reference §6): delete, then create (freeing its slot first).
    await remove(ctx, record.name, info.id, info.status);
    const cleared = await save(ctx, bad, { platformId: null });
    if (cleared && (await create(ctx, cleared, 'not-active'))) ctx.backfill(record, info.status);
    return;
  }
  if (!sameAddress(info.address ?? record.address, address)) {
    log.info(
      { from: originOf(info.address), to: originOf(address) },
      'the public URL changed; moving the subscription',
    );
    const atLimit = ctx.count >= ctx.subscriptionLimit;
    if (atLimit) await remove(ctx, record.name, info.id, 'moved (at the subscription limit: deleted first)');
    const made = await create(ctx, record, 'moved');
    if (!made) return;
    if (!atLimit) await remove(ctx, record.name, info.id, 'moved to a new address');
    // The old address (a previous tunnel) may have been dead since the last event.
    ctx.backfill(record, 'moved');
    return;
  }
  const expiresAtMs = Date.parse(info.expirationTime ?? record.expiresAt ?? '');
  const lifetimeMs = Math.min(record.expiresIn * 1000, ctx.granted.get(info.id) ?? Infinity);
  const renewWithinMs = Math.max(lifetimeMs / 10, 2 * ctx.intervalMs);
  const reminded = ctx.renewNow.delete(info.id);
  if (reminded || (Number.isFinite(expiresAtMs) && expiresAtMs - ctx.nowMs <= renewWithinMs)) {
    await renew(ctx, record, info, reminded ? 'reminder' : 'expiring');
    return;
  }
  const checked = fromInfo(ctx, info);
  await save(ctx, record, checked);
}

function reasonOf(info: SubscriptionInfo): string {
  const reason = info.blacklistedData?.reason;
  return typeof reason === 'string' ? `: ${reason}` : '';
}

async function renew(
  ctx: RoundContext,
  record: SubscriptionRecord,
  info: SubscriptionInfo,
  why: string,
): Promise<void> {
  const log = ctx.logger.child({ subscription: record.name, platformId: info.id });
  let renewed: SubscriptionInfo | null;
  try {
    renewed = await renewSubscription(ctx.platform, info.id);
  } catch (error) {
    log.warn({ err: error }, 'renewing the subscription failed; next round');
    await save(ctx, record, { lastError: messageOf(error) });
    throw error;
  }
  if (!renewed) {
    // Expired between the list and the renewal (purged: 404), the classic late renewal.
    log.warn('renewal answered 404 (expired or deleted); re-creating');
    const gone = await save(ctx, record, { status: 'Gone', platformId: null });
    if (gone && (await create(ctx, gone, 'gone'))) ctx.backfill(record, 'gone');
    return;
  }
  if (renewed.expiresIn !== null) ctx.granted.set(renewed.id, renewed.expiresIn * 1000);
  await save(ctx, record, fromInfo(ctx, renewed));
  log.info({ why, expiresAt: renewed.expirationTime }, 'renewed the subscription');
}

/**
 * Deletes platform subscriptions this installation created and no kept record points at any more (a move
 * whose delete failed, a create whose process died): those whose address verifies as one of our
 * subscription URLs and whose request belongs to a kept subscription. A subscription the user created
 * themselves with a URL from `jobhook mint --kind subscription` has no kept record and is left alone.
 */
export async function removeDuplicates(ctx: RoundContext): Promise<void> {
  const records = await ctx.store.listSubscriptions();
  const current = new Set(records.map((r) => r.platformId).filter((id) => id !== null));
  const byRequest = new Map(records.map((r) => [r.requestId, r]));
  for (const info of ctx.list) {
    if (current.has(info.id) || ctx.deleted.has(info.id)) continue;
    const path = pathOf(info.address);
    const minted = path === null ? null : verifyMintedPath(ctx.keyring, ctx.pathPrefix, path);
    if (minted?.kind !== 'subscription') continue;
    const owner = byRequest.get(minted.requestId);
    if (!owner || isFreshPending(ctx, owner)) continue;
    await remove(ctx, owner.name, info.id, 'a duplicate of a kept subscription');
  }
}

/** Where an address points, without its path: the path's tag lets anyone post there, so logs never carry it. */
function originOf(address: string | null): string | null {
  if (address === null) return null;
  try {
    return new URL(address).origin;
  } catch {
    return '(not a URL)';
  }
}
