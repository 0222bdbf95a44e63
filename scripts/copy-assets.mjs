// Copies the files the compiled code reads at run time: SQL migrations and the inspector page.
import { cpSync } from 'node:fs';

cpSync('src/store/sqlite/migrations', 'dist/store/sqlite/migrations', { recursive: true });
cpSync('src/store/postgres/migrations', 'dist/store/postgres/migrations', { recursive: true });
cpSync('src/inspector/page', 'dist/inspector/page', { recursive: true });
