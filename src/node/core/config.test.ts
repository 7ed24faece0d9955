import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig, relayKey, relayPins, relayUrls } from './config.ts';

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
    expect(() => parseConfig({ party: 'us', listen: '127.0.0.1:99999' })).toThrow(
      /listen is not a host:port, the port from 1 to 65535/,
    );
    expect(() => parseConfig({ party: 'us', operatorListen: '127.0.0.1:0' })).toThrow(
      /operatorListen is not a host:port, the port from 1 to 65535/,
    );
    for (const [settings, setting] of [
      [{ relays: ['https://?box'] }, 'relays.0'],
      [{ machineTranslation: { url: 'http://:5000/translate' } }, 'machineTranslation.url'],
      [{ watchdog: { url: 'https://#ping' } }, 'watchdog.url'],
    ] as const)
      expect(() => parseConfig({ party: 'us', ...settings })).toThrow(
        `${setting} must be an https address`,
      );
    expect(() => parseConfig({ party: 'us', operatorListen: '127.0.0.1:7100' })).toThrow(
      /listen and operatorListen are both 127\.0\.0\.1:7100/,
    );
    expect(() => parseConfig({ party: 'us', timeZones: { cn: 'Asia/Beijing' } })).toThrow(
      /timeZones\.cn: "Asia\/Beijing" is not a known IANA time zone/,
    );
    expect(() => parseConfig({ party: 'us', incidents: { ladder: ['ops', 'ops'] } })).toThrow(
      'hotline.yaml: incidents.ladder names the desk "ops" twice: each step of the ladder is one more desk',
    );
    expect(() =>
      parseConfig({ party: 'us', approvals: { ladder: ['ops', 'principal', 'ops'] } }),
    ).toThrow(/approvals\.ladder names the desk "ops" twice/);
    expect(() =>
      parseConfig({
        party: 'us',
        incidents: { precedence: { flash: { ackMinutes: 1, escalateMinutes: 60 } } },
      }),
    ).toThrow(
      'hotline.yaml: incidents.precedence.flash: escalateMinutes 60 is longer than ackMinutes 1: notices repeat every escalateMinutes until the acknowledgement deadline and climb the ladder after it, so escalateMinutes must be at most ackMinutes',
    );
    expect(parseConfig({ party: 'us', timeZones: { cn: 'Asia/Shanghai' } }).timeZones).toEqual({
      cn: 'Asia/Shanghai',
    });
  });

  test('a relay is a URL or a URL with its pin; a pin is one per relay, on relay paths only', () => {
    const pin = 'ab'.repeat(32);
    const config = parseConfig({
      party: 'us',
      relays: ['https://old.example:7200', { url: 'https://relay.example:7200', pin }],
      paths: {
        cn: [{ id: 'geneva', kind: 'relay', url: 'http://relay.example:7200/', priority: 50 }],
      },
    });
    expect(relayUrls(config)).toEqual(['https://old.example:7200', 'https://relay.example:7200']);
    // The same relay whatever the scheme or a trailing slash: the path takes the entry's pin.
    expect(relayPins(config).get(relayKey('http://relay.example:7200/'))).toBe(pin);
    expect(relayPins(config).has(relayKey('https://old.example:7200'))).toBe(false);
    expect(() =>
      parseConfig({ party: 'us', relays: [{ url: 'https://relay.example:7200', pin: 'AB' }] }),
    ).toThrow(/relays\.0/);
    expect(() =>
      parseConfig({
        party: 'us',
        relays: [{ url: 'https://relay.example:7200', pin }],
        paths: {
          cn: [
            {
              id: 'geneva',
              kind: 'relay',
              url: 'https://relay.example:7200',
              priority: 5,
              pin: 'cd'.repeat(32),
            },
          ],
        },
      }),
    ).toThrow(/relay.example:7200 is given two different pins/);
    expect(() =>
      parseConfig({
        party: 'us',
        paths: {
          cn: [{ id: 'direct', kind: 'direct', url: 'https://cn.example', priority: 0, pin }],
        },
      }),
    ).toThrow(/paths\.cn: "direct" is a direct path: its pin comes from cn's card/);
  });
});
