import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

describe('the configuration file', () => {
  test('fills in defaults for everything but the party', () => {
    const config = parseConfig({ party: 'us' });
    expect(config).toMatchObject({
      party: 'us',
      listen: '127.0.0.1:7100',
      operatorListen: '127.0.0.1:7101',
      heartbeatMs: 2000,
      outbox: { batch: 256, backoffBaseMs: 250, backoffMaxMs: 30_000 },
      logLevel: 'info',
    });
  });

  test('names the offending setting', () => {
    expect(() => parseConfig({ party: 'us', heartbeatMs: 5 })).toThrow(/heartbeatMs/);
    expect(() => parseConfig({ party: 'us', outbox: { batch: 1000 } })).toThrow(/outbox\.batch/);
    expect(() => parseConfig({ party: 'US!' })).toThrow(/party/);
    expect(() => parseConfig({ party: 'us', colour: 'red' })).toThrow(ConfigError);
    expect(() => parseConfig('party: us')).toThrow(/mapping/);
    expect(() => parseConfig({ party: 'us', timeZones: { cn: 'Asia/Beijing' } })).toThrow(
      /timeZones\.cn: "Asia\/Beijing" is not a known IANA time zone/,
    );
    expect(parseConfig({ party: 'us', timeZones: { cn: 'Asia/Shanghai' } }).timeZones).toEqual({
      cn: 'Asia/Shanghai',
    });
  });
});
