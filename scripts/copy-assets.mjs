// Copies the SQL migrations next to the compiled store, where migrate.ts looks for them.
import { cpSync } from 'node:fs';

cpSync('src/store/sqlite/migrations', 'dist/store/sqlite/migrations', { recursive: true });
