import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CHART, REPO, find, render, type Container } from './support.js';

// eatr is released as one thing: the workspace's packages, the chart and the image it deploys carry
// one version, so `eatr --version`, eatr_build_info, the chart and the image tag never disagree.
// The workspace root, every packages/* package and test/ (pnpm-workspace.yaml lists these).
const PACKAGES = [
  'package.json',
  ...readdirSync(join(REPO, 'packages'))
    .sort()
    .map((name) => `packages/${name}/package.json`),
  'test/package.json',
];

const readJson = async (path: string) =>
  JSON.parse(await readFile(join(REPO, path), 'utf8')) as { name: string; version: string };

const released = async () => (await readJson('package.json')).version;

describe('one version for the packages, the chart and the image', () => {
  it('is a semantic version', async () => {
    expect(await released()).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  });

  it.each(PACKAGES)('%s has it', async (path) => {
    expect((await readJson(path)).version).toBe(await released());
  });

  it("is the chart's version and appVersion", async () => {
    const chart = parse(await readFile(join(CHART, 'Chart.yaml'), 'utf8')) as {
      version: unknown;
      appVersion: unknown;
    };
    expect(chart.version).toBe(await released());
    expect(chart.appVersion).toBe(await released());
  });

  it("is the image tag the chart deploys by default, and the resources' version label", async () => {
    const objects = await render();
    const version = await released();
    for (const name of ['eatr-watcher', 'eatr-renewer']) {
      const deployment = find(objects, 'Deployment', name);
      const spec = deployment['spec'] as { template: { spec: { containers: Container[] } } };
      expect(spec.template.spec.containers[0]?.image, name).toBe(`eatr:${version}`);
      expect(deployment.metadata.labels?.['app.kubernetes.io/version'], name).toBe(version);
    }
  });

  it('has a section in CHANGELOG.md, with upgrade notes, and each section has them', async () => {
    const changelog = await readFile(join(REPO, 'CHANGELOG.md'), 'utf8');
    const version = await released();
    const sections = changelog.split(/^(?=## )/m).slice(1);
    const headings = sections.map((section) => section.split('\n', 1)[0] ?? '');
    // `## 0.2.0` once released, `## 0.2.0 (unreleased)` until then.
    expect(headings).toContainEqual(
      expect.stringMatching(new RegExp(`^## ${version.replaceAll('.', '\\.')}( |$)`)),
    );
    for (const section of sections)
      expect(section, section.split('\n', 1)[0]).toMatch(/^### Upgrade notes$/m);
  });
});
