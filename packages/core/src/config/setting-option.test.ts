import { describe, expect, it } from 'vitest';
import { settingHelp, settingOption } from './setting-option.js';
import { SETTINGS } from './settings.js';

describe('settingHelp', () => {
  it.each([
    [
      'renewal-interval',
      'renew a Secret once its token is this old (must be under 12h) (range: 1s to 719m) (default: "6h") [env: EATR_RENEWAL_INTERVAL]',
    ],
    ['kube-api-qps', /\(range: at least 0\) \(default: "50"\)/],
    ['metrics-port', /\(range: 0 to 65535\)/],
    ['shutdown-timeout', /\(range: at least 0s\)/],
    ['redis-url', /^standalone Redis URL .* \[env: EATR_REDIS_URL, REDIS_URL\]$/],
  ])('shows the range and default of --%s', (flag, help) => {
    const setting = SETTINGS.find((s) => s.flag === flag);
    expect(setting && settingHelp(setting)).toMatch(help);
  });
});

describe('settingOption', () => {
  it('takes a value for a setting named no-*, rather than negating another', () => {
    const option = settingOption('no-proxy', 'hosts that bypass the proxy');
    expect(option.negate).toBe(false);
    expect(option.long).toBe('--no-proxy');
    expect(option.required).toBe(true);
  });
});
