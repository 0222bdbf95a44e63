import type { Database } from './database.js';

const SECRETS_KEY = 'callback_secrets';

/** Settings and the callback keyring (see `SettingsStore`); every write is one atomic statement. */
export class PgSettings {
  constructor(readonly db: Database) {}

  async get(key: string): Promise<string | null> {
    const { rows } = await this.db.query<{ value: string }>(
      'read a setting',
      'SELECT value FROM settings WHERE key = $1',
      [key],
    );
    return rows[0]?.value ?? null;
  }

  async put(key: string, value: string): Promise<void> {
    await this.db.query(
      'write a setting',
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
      [key, value],
    );
  }

  /** Generated only when absent; when two instances race, the first insert wins and both return it. */
  async ensure(key: string, generate: () => string): Promise<string> {
    const existing = await this.get(key);
    if (existing !== null) return existing;
    const { rows } = await this.db.query<{ value: string }>(
      'initialise a setting',
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value',
      [key, generate()],
    );
    return rows[0]?.value ?? (await this.get(key))!;
  }

  async ensureSecrets(generate: () => string): Promise<string[]> {
    return JSON.parse(await this.ensure(SECRETS_KEY, () => JSON.stringify([generate()]))) as string[];
  }

  /** Prepends in one statement, so two instances rotating at once both keep their secret. */
  async addSecret(secret: string): Promise<string[]> {
    const { rows } = await this.db.query<{ value: string }>(
      'add a callback secret',
      `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key)
       DO UPDATE SET value = (jsonb_build_array($3::text) || settings.value::jsonb)::text RETURNING value`,
      [SECRETS_KEY, JSON.stringify([secret]), secret],
    );
    return JSON.parse(rows[0]!.value) as string[];
  }
}
