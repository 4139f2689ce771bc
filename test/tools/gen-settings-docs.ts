// Writes the settings table of docs/architecture.md from SETTINGS: `pnpm docs:settings`.
// test/chart/settings-docs.test.ts fails when the committed table differs from this output.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withSettingsTable } from '@eatr/core';

const path = fileURLToPath(new URL('../../docs/architecture.md', import.meta.url));
writeFileSync(path, withSettingsTable(readFileSync(path, 'utf8')));
console.log(`updated ${path}`);
