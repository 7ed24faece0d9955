import { describe, expect, test } from 'vitest';
import { makeAttachment, viewAttachment } from './attachments.ts';
import { utf8 } from './encoding.ts';
import { checkStixBundle, STIX_MEDIA_TYPE } from './stix.ts';

const T = '2026-11-27T01:00:00.000Z';
const IDENTITY = 'identity--8f0ee5d5-6a2b-4ac3-a0a4-0ad0a6a93f8e';
const INDICATOR = 'indicator--2f3c0d14-9c8e-4d5c-a1a8-0c4c2a7d5e11';
const MALWARE = 'malware--b1d2c3e4-5f60-4718-8a9b-0c1d2e3f4a5b';

/** A small STIX 2.1 bundle such as a CERT would attach: who, an indicator, malware, a link. */
function bundle(): Record<string, unknown> & { objects: Record<string, unknown>[] } {
  return {
    type: 'bundle',
    id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
    objects: [
      {
        type: 'identity',
        spec_version: '2.1',
        id: IDENTITY,
        created: T,
        modified: T,
        name: 'CN-CERT',
        identity_class: 'organization',
      },
      {
        type: 'indicator',
        spec_version: '2.1',
        id: INDICATOR,
        created_by_ref: IDENTITY,
        created: T,
        modified: T,
        name: 'C2 of the agent swarm',
        pattern: "[ipv4-addr:value = '198.51.100.7']",
        pattern_type: 'stix',
        valid_from: T,
        object_marking_refs: ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82'],
      },
      {
        type: 'malware',
        spec_version: '2.1',
        id: MALWARE,
        created: T,
        modified: T,
        name: 'agent-worm',
        is_family: true,
      },
      {
        type: 'relationship',
        spec_version: '2.1',
        id: 'relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad',
        created: T,
        modified: T,
        relationship_type: 'indicates',
        source_ref: INDICATOR,
        target_ref: MALWARE,
      },
      {
        type: 'ipv4-addr',
        id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd',
        value: '198.51.100.7',
      },
    ],
  };
}

describe('STIX 2.1 bundles', () => {
  test('a valid bundle is summarized for display', () => {
    const result = checkStixBundle(bundle());
    expect(result).toEqual({
      ok: true,
      summary: {
        id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
        objects: 5,
        types: { identity: 1, indicator: 1, 'ipv4-addr': 1, malware: 1, relationship: 1 },
        listed: [
          {
            type: 'indicator',
            id: INDICATOR,
            label: "C2 of the agent swarm: [ipv4-addr:value = '198.51.100.7']",
          },
          { type: 'malware', id: MALWARE, label: 'agent-worm' },
          {
            type: 'relationship',
            id: 'relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad',
            label: `${INDICATOR} indicates ${MALWARE}`,
          },
          {
            type: 'ipv4-addr',
            id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd',
            label: '198.51.100.7',
          },
        ],
      },
    });
  });

  const broken: Array<[string, (b: ReturnType<typeof bundle>) => unknown, string[]]> = [
    ['not a bundle', (b) => ({ ...b, type: 'report' }), ['type: must be "bundle", not "report"']],
    [
      'a bundle id without a UUID',
      (b) => ({ ...b, id: 'bundle--42' }),
      ['id: must be "bundle--" followed by a UUID, not "bundle--42"'],
    ],
    [
      'a STIX 2.0 bundle',
      (b) => ({ ...b, spec_version: '2.0' }),
      ['spec_version: a STIX 2.1 bundle has no spec_version ("2.0" suggests STIX 2.0)'],
    ],
    [
      'no objects',
      (b) => ({ ...b, objects: [] }),
      ['objects: must be a non-empty array of STIX objects'],
    ],
    [
      'an object without spec_version',
      (b) => {
        delete b.objects[2]?.spec_version;
        return b;
      },
      ['objects[2].spec_version: must be "2.1" for a malware, not missing'],
    ],
    [
      'an id of another type',
      (b) => {
        (b.objects[2] as Record<string, unknown>).id = INDICATOR.replace('2f3c', '3f3c');
        return b;
      },
      [
        'objects[2].id: must be "malware--" followed by a UUID, not "indicator--3f3c0d14-9c8e-4d5c-a1a8-0c4c2a7d5e11"',
        `objects[3].target_ref: refers to ${MALWARE}, which is not in the bundle`,
      ],
    ],
    [
      'an indicator without its pattern',
      (b) => {
        delete b.objects[1]?.pattern;
        return b;
      },
      ['objects[1].pattern: objects[1] (indicator) requires "pattern"'],
    ],
    [
      'a reference to an object not in the bundle',
      (b) => {
        b.objects.splice(0, 1);
        return b;
      },
      [`objects[0].created_by_ref: refers to ${IDENTITY}, which is not in the bundle`],
    ],
    [
      'a timestamp without a zone',
      (b) => {
        (b.objects[2] as Record<string, unknown>).modified = '2026-11-27T01:00:00';
        return b;
      },
      ['objects[2].modified: objects[2] (malware) needs a UTC timestamp "modified"'],
    ],
  ];

  test.each(broken)('refuses %s, saying where and why', (_what, mutate, messages) => {
    const result = checkStixBundle(mutate(bundle()));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual(messages);
  });

  test('a hostile bundle gets a bounded report', () => {
    const b = bundle();
    b.objects = Array.from({ length: 500 }, () => ({ type: 'x' }));
    const result = checkStixBundle(b);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toHaveLength(50);
  });
});

describe('attachments', () => {
  test('a STIX attachment is checked through its bytes and digest', () => {
    const good = makeAttachment('iocs.json', STIX_MEDIA_TYPE, utf8(JSON.stringify(bundle())));
    const view = viewAttachment(good);
    expect(view).toMatchObject({ intact: true, problems: [], stix: { summary: { objects: 5 } } });
    const tampered = { ...good, sha256: '0'.repeat(64) };
    expect(viewAttachment(tampered).problems).toEqual([
      '"iocs.json": the data does not match its sha256',
    ]);
    const notJson = makeAttachment('iocs.json', STIX_MEDIA_TYPE, utf8('{'));
    expect(viewAttachment(notJson).problems).toEqual([
      '"iocs.json": a STIX bundle must be UTF-8 JSON',
    ]);
  });
});
