import { describe, expect, it } from 'vitest';
import { requiredPermissions } from '@eatr/cli';
import { render, rulesOf } from './support.js';

// `eatr doctor` reviews each component's access against its own list of permissions; this keeps
// that list equal to what the chart grants, so a ✔ means the chart's RBAC works and a ✖ is real.
describe("eatr doctor's RBAC list", () => {
  it.each([
    ['watcher', ['watcher-clusterrole', 'watcher-role-leader-election']],
    ['renewer', ['renewer-clusterrole']],
  ] as const)('is what the chart grants the %s', async (component, templates) => {
    const objects = await render();
    const granted = objects
      .filter((o) => templates.some((t) => o.source === `templates/${t}.yaml`))
      .flatMap((o) => rulesOf(o))
      .flatMap((rule) =>
        (rule.apiGroups ?? ['']).flatMap((group) =>
          (rule.resources ?? []).flatMap((resource) =>
            rule.verbs.flatMap((verb) =>
              (rule.resourceNames ?? [undefined]).map((name) =>
                [group, resource, verb, name ?? '*'].join(' '),
              ),
            ),
          ),
        ),
      );
    const checked = requiredPermissions(component, {
      hostNamespace: 'ci-cd',
      leaseNamespace: 'ci-cd',
      leaseName: 'eatr-watcher',
    }).map((p) => [p.group, p.resource, p.verb, p.name ?? '*'].join(' '));
    expect(checked.sort()).toEqual(granted.sort());
  });

  it('is what the chart grants the renewer with config.servedNamespaces, namespace by namespace', async () => {
    const objects = await render({
      values: { hostNamespace: 'ci-cd', config: { servedNamespaces: ['team-a', 'team-b'] } },
    });
    const granted = objects
      .filter((o) =>
        ['renewer-clusterrole', 'renewer-role-secrets'].some(
          (t) => o.source === `templates/${t}.yaml`,
        ),
      )
      .flatMap((o) =>
        rulesOf(o).flatMap((rule) =>
          (rule.resources ?? []).flatMap((resource) =>
            rule.verbs.map((verb) => `${resource} ${verb} ${o.metadata.namespace ?? '*'}`),
          ),
        ),
      );
    const checked = requiredPermissions('renewer', {
      hostNamespace: 'ci-cd',
      leaseNamespace: 'ci-cd',
      leaseName: 'eatr-watcher',
      servedNamespaces: new Set(['team-a', 'team-b']),
    }).map((p) => `${p.resource} ${p.verb} ${p.namespace ?? '*'}`);
    expect(checked.sort()).toEqual(granted.sort());
  });
});
