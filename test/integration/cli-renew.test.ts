import { EventReason } from '@eatr/core';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_ENTRY, eatrCli } from './support/eatr-cli.js';
import { KEYS, Scenario, registry } from './support/scenario.js';

// `eatr renew` run as a user runs it (the built CLI) against the real kube-apiserver, Redis and a
// renewer process; once with stdout a pipe (plain output), once in a pseudo-terminal (`script`).

const EU = registry('eu-west-1');

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

const ESC = '\u001b[';

/** Runs `eatr ARGS` in a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
function eatrInTerminal(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const command = [process.execPath, CLI_ENTRY, ...args].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        TERM: 'xterm-256color',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('eatr renew', () => {
  it('renews fresh Secrets now with one new token and prints what changed, in plain text when not on a terminal', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const a = await s.createNamespace('renew-a', [EU]);
    const b = await s.createNamespace('renew-b', [EU]);
    await s.enqueue(a);
    await s.enqueue(b);
    const before = [await s.waitForSecret(a, EU), await s.waitForSecret(b, EU)];
    await s.drained();
    const calls = s.aws.callCount({ action: 'GetAuthorizationToken' });

    const result = await eatrCli(['renew', a, b], s.env());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+REGISTRY\s+RESULT\s+EXPIRES IN\s+REASON$/);
    expect(lines[1]).toMatch(new RegExp(`^${a}\\s+\\S+\\s+renewed\\s+1[12]h\\d+m\\s+-$`));
    expect(lines[2]).toMatch(new RegExp(`^${b}\\s+\\S+\\s+renewed\\s+1[12]h\\d+m\\s+-$`));
    expect(lines.at(-1)).toBe('2 of 2 Secrets renewed with 1 new token');
    expect(result.stdout).not.toContain(ESC);
    // Both Secrets were rewritten, from one ECR call.
    for (const [i, ns] of [a, b].entries()) {
      const after = await s.readSecret(ns, EU);
      expect(after?.metadata?.resourceVersion).not.toBe(before[i]?.metadata?.resourceVersion);
    }
    expect(s.aws.callCount({ action: 'GetAuthorizationToken' })).toBe(calls + 1);

    const noWait = await eatrCli(['renew', '--all', '--registry', EU, '--no-wait'], s.env());
    expect(noWait.code).toBe(0);
    expect(noWait.stdout).toMatch(
      /^Enqueued forced syncs for \d+ namespaces? \(\d+ Secrets?\)\.\n$/,
    );

    const usage = await eatrCli(['renew'], s.env());
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('name the namespaces to renew, or --all');
    const notOptedIn = await eatrCli(['renew', s.hostNamespace], s.env());
    expect(notOptedIn.code).toBe(2);
    expect(notOptedIn.stderr).toContain(
      `namespace ${s.hostNamespace} does not ask eatr for any registry`,
    );
  });

  it('is not held back by a remembered AWS refusal once access is fixed, and says why while it is not', async () => {
    await s.createCredentialSecret(EU);
    s.aws.setBehaviour(KEYS.accessKeyId, 'access-denied');
    await s.start('renewer');
    const ns = await s.createNamespace('denied', [EU]);
    await s.enqueue(ns);
    await s.waitFor('the refusal to be recorded', async () => {
      const events = await s.events(ns, EventReason.TokenFailed);
      return events.length > 0 || undefined;
    });

    const refused = await eatrCli(['renew', ns], s.env());
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(new RegExp(`${ns}\\s+\\S+\\s+unchanged\\s+-\\s+denied`));
    expect(refused.stdout).toContain('0 of 1 Secret renewed; 1 not');

    s.aws.setBehaviour(KEYS.accessKeyId, undefined); // the IAM policy is fixed outside the cluster
    const fixed = await eatrCli(['renew', ns], s.env());
    expect(fixed.stdout).toMatch(new RegExp(`${ns}\\s+\\S+\\s+created\\s+1[12]h`));
    expect(fixed.code).toBe(0);
    const status = await eatrCli(['status', '-n', ns, '-o', 'json'], s.env());
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ items: [{ state: 'fresh' }] });
  });

  it('draws a progress bar and colours on a terminal, and no colours with NO_COLOR', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const ns = await s.createNamespace('tty', [EU]);
    await s.enqueue(ns);
    await s.waitForSecret(ns, EU);

    const tty = await eatrInTerminal(['renew', ns], s.env());
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toMatch(/Renewing \u2588+ 1\/1 namespaces/);
    expect(tty.output).toContain(`${ESC}32mrenewed`); // green

    const plain = await eatrInTerminal(['renew', ns], s.env({ NO_COLOR: '1' }));
    expect(plain.code, plain.output).toBe(0);
    expect(plain.output).toMatch(/Renewing \u2588+ 1\/1 namespaces/);
    expect(plain.output).toMatch(/\srenewed\s/);
    expect(plain.output).not.toContain(`${ESC}32m`);

    const status = await eatrInTerminal(['status', '-n', ns], s.env());
    expect(status.output).toContain(`${ESC}32mfresh`);
  });
});
