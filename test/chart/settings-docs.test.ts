import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withSettingsTable } from '@eatr/core';
import { REPO } from './support.js';

describe('docs/architecture.md settings table', () => {
  it('is the one generated from SETTINGS (run `pnpm docs:settings` after changing a setting)', async () => {
    const doc = await readFile(join(REPO, 'docs/architecture.md'), 'utf8');
    expect(doc).toBe(withSettingsTable(doc));
  });
});
