import type { IncomingMessage, ServerResponse } from 'node:http';
import { JobhookError } from '../errors.js';
import type { AceRecordingInsights } from '../ringcentral/ace.js';
import type { Store } from '../store/store.js';
import type { EventRecord, InsightsRecord, SubscriptionRecord } from '../types.js';
import { EXPORT_FORMATS, type ExportFormat } from './exports.js';
import { download, error, json, readJson } from './http-answers.js';
import { exportInsights, insightsExportFormats, insightsFileName } from './insights-exports.js';
import { insightsOfDeliveryBody, toInsightsView, type InsightsView } from './insights-view.js';
import { toDeliveryView, type DeliveryView } from './request-view.js';

/**
 * The local API's routes for push notifications (issue #12): the kept subscriptions, one action on them
 * (re-create, done by the keeper of the process that runs one), and the ACE insight records with their
 * exports. Reads only, apart from the re-create, which passes request-guard.ts's write checks first.
 */
export interface PushRoutesOptions {
  store: Store;
  /**
   * Re-creates the named subscription on the platform (the keeper's repair: delete, create with the same
   * address and filters, save). Absent when no keeper runs in this process: the route answers 503.
   */
  recreateSubscription?: (name: string) => Promise<void>;
}

/** A record's page: the record, its newest version parsed for display, the request's events and the raw body. */
export interface InsightsDetailView {
  record: InsightsRecord;
  /** Null when the stored body cannot be read as insights (`problem` says why). */
  insights: InsightsView | null;
  problem: string | null;
  exportFormats: ExportFormat[];
  /**
   * The push notifications of the record's request (its subscription's address), newest first; `current`
   * marks the one holding this version. Other records' events on the same subscription are listed too.
   */
  events: (EventRecord & { current: boolean })[];
  /** The delivery holding this version, headers and body as received. */
  delivery: DeliveryView | null;
}

const EVENTS_SHOWN = 200;
const INSIGHTS_LISTED = 500;

/** Answers the request and returns true when `path` is one of these routes; false leaves it to the caller. */
export async function routePush(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  options: PushRoutesOptions,
): Promise<boolean> {
  const { store } = options;
  const path = url.pathname;
  if (req.method === 'GET' && path === '/api/subscriptions') {
    const subscriptions: SubscriptionRecord[] = await store.listSubscriptions();
    json(res, 200, { subscriptions, canRecreate: Boolean(options.recreateSubscription) });
    return true;
  }
  const recreate = /^\/api\/subscriptions\/([^/]+)\/recreate$/.exec(path);
  if (req.method === 'POST' && recreate) {
    await recreateRoute(req, res, decodeURIComponent(recreate[1]!), options);
    return true;
  }
  if (req.method === 'GET' && path === '/api/insights') {
    const domain = url.searchParams.get('domain') || undefined;
    const limit = Number(url.searchParams.get('limit') ?? INSIGHTS_LISTED);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      error(res, 400, 'limit must be 1..10000');
      return true;
    }
    json(res, 200, { insights: await store.listInsights({ domain, limit }) });
    return true;
  }
  const exported = /^\/api\/insights\/([^/]+)\/([^/]+)\/export\.([a-z]+)$/.exec(path);
  if (req.method === 'GET' && exported) {
    await exportRoute(res, decodeURIComponent(exported[1]!), decodeURIComponent(exported[2]!), exported[3]!, store);
    return true;
  }
  const detail = /^\/api\/insights\/([^/]+)\/([^/]+)$/.exec(path);
  if (req.method === 'GET' && detail) {
    const key = { domain: decodeURIComponent(detail[1]!), sourceRecordId: decodeURIComponent(detail[2]!) };
    const record = await store.findInsights(key);
    if (!record) error(res, 404, `no insight record ${key.domain} ${key.sourceRecordId}`);
    else json(res, 200, await readInsightsDetail(store, record));
    return true;
  }
  return false;
}

async function recreateRoute(
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  options: PushRoutesOptions,
): Promise<void> {
  if ((await readJson(req)) === undefined) return error(res, 400, 'body must be a JSON object (or empty)');
  if (!options.recreateSubscription) {
    return error(
      res,
      503,
      'no subscription keeper runs in this process: re-create from the process that runs jobhook serve or dev',
    );
  }
  const subscription = await options.store.findSubscription(name);
  if (!subscription) return error(res, 404, `no subscription named ${name}`);
  try {
    await options.recreateSubscription(subscription.name);
  } catch (err) {
    const code = err instanceof JobhookError ? err.code : undefined;
    const status = code === 'JH_ERR_NOT_FOUND' ? 404 : code === 'JH_ERR_INVALID_ARGUMENT' ? 400 : 502;
    return error(res, status, (err as Error).message, code);
  }
  json(res, 200, { subscription: (await options.store.findSubscription(subscription.name)) ?? null });
}

/** The record's newest version, parsed; an error when its delivery is gone or unreadable. */
async function readVersion(
  store: Store,
  record: InsightsRecord,
): Promise<{ insights: AceRecordingInsights; delivery: DeliveryView } | { problem: string }> {
  const delivery = await store.getDelivery(record.deliveryId);
  if (!delivery) return { problem: `the delivery ${record.deliveryId} holding this record is gone` };
  try {
    return { insights: insightsOfDeliveryBody(delivery.body), delivery: toDeliveryView(delivery) };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

export async function readInsightsDetail(store: Store, record: InsightsRecord): Promise<InsightsDetailView> {
  const version = await readVersion(store, record);
  // The events that carried this record (each version that came by webhook), not the subscription's others.
  const events = await store.listEvents({ record, limit: EVENTS_SHOWN });
  const parsed = 'insights' in version ? version.insights : null;
  return {
    record,
    insights: parsed ? toInsightsView(parsed) : null,
    problem: 'problem' in version ? version.problem : null,
    exportFormats: parsed ? insightsExportFormats(parsed) : [],
    events: events.map((e) => ({ ...e, current: e.deliveryId === record.deliveryId })),
    delivery: 'delivery' in version ? version.delivery : null,
  };
}

async function exportRoute(
  res: ServerResponse,
  domain: string,
  sourceRecordId: string,
  format: string,
  store: Store,
): Promise<void> {
  if (!EXPORT_FORMATS.includes(format as ExportFormat)) {
    return error(res, 404, `no export format ${format}; use one of ${EXPORT_FORMATS.join(', ')}`);
  }
  const record = await store.findInsights({ domain, sourceRecordId });
  if (!record) return error(res, 404, `no insight record ${domain} ${sourceRecordId}`);
  const version = await readVersion(store, record);
  if ('problem' in version) return error(res, 422, version.problem);
  let out: { body: string; contentType: string };
  try {
    out = exportInsights(version.insights, format as ExportFormat);
  } catch (err) {
    return error(res, 422, (err as Error).message);
  }
  download(res, out, insightsFileName(record, format as ExportFormat));
}
