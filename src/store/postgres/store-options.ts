import type { JobhookError } from '../../errors.js';
import { schemaKey } from './database.js';

/* PostgresStore's options, and the channel name instances must agree on (kept apart from the store itself). */

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (libpq URL; `?sslmode=…` and friends work). */
  connectionString: string;
  /** The schema holding jobhook's tables, created if missing; every connection's search_path. @defaultValue 'public' */
  schema?: string;
  /** Pooled connections for queries (the LISTEN connection is one more). @defaultValue 10 */
  poolSize?: number;
  /** Server-side limit on one statement; past it the call fails with JH_ERR_STORE_UNAVAILABLE. @defaultValue 15000 */
  statementTimeoutMs?: number;
  /** How long opening a connection may take before it counts as the database being unreachable. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** How long an instance's heartbeat keeps its in-flight submissions from being marked interrupted. @defaultValue 30000 */
  instanceLeaseMs?: number;
  /**
   * How often the LISTEN connection is pinged; unanswered for min(this, 5 s) it counts as lost (re-listen,
   * then resync), as a flow a NAT dropped silently would otherwise stay unnoticed. @defaultValue 15000
   */
  listenPingMs?: number;
  /**
   * Open only a schema jobhook already migrated (read-only commands): a mistyped `?schema=` is then
   * JH_ERR_INVALID_CONFIG instead of a new empty schema with a callback secret nobody else knows.
   * @defaultValue false
   */
  existingOnly?: boolean;
  /**
   * Told each time the database stops answering (healthy → unhealthy); `health()` recovers by itself when
   * it answers again. Nothing is logged by the store itself.
   */
  onProblem?: (error: JobhookError) => void;
}

/** The NOTIFY channel of a schema's settlement hints (tests run schemas side by side in one database). */
export const settlementChannel = (schema: string): string =>
  `jobhook_settled_${schemaKey(schema, 'notify').slice(0, 24)}`;
