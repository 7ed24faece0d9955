import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { makeAttachment, tlpBelowMarking, viewAttachment } from './attachments.ts';
import { utf8 } from './encoding.ts';
import { checkStixBundle, STIX_MEDIA_TYPE } from './stix.ts';
import { parseStixPattern } from './stix-pattern.ts';

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
        tlp: 'amber',
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
      [
        'objects[2].modified: "2026-11-27T01:00:00" is not a UTC timestamp YYYY-MM-DDTHH:mm:ss[.s+]Z',
      ],
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
  test('a received TLP:CLEAR message with a TLP:RED bundle shows the problem', () => {
    const b = bundle();
    (b.objects[1] as Record<string, unknown>).object_marking_refs = [
      'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
    ];
    const red = makeAttachment('iocs.json', STIX_MEDIA_TYPE, utf8(JSON.stringify(b)));
    expect(viewAttachment(red, 'clear').problems).toEqual([
      '"iocs.json" is a STIX bundle marked TLP:RED, but the message is TLP:CLEAR: the message must be at least TLP:RED',
    ]);
    expect(viewAttachment(red, 'red').problems).toEqual([]);
    expect(tlpBelowMarking({ tlp: 'amber+strict', attachments: [red] })).toContain(
      'marked TLP:RED, but the message is TLP:AMBER+STRICT',
    );
    expect(tlpBelowMarking({ tlp: 'red', attachments: [red] })).toBeUndefined();
  });

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

const CORPUS = new URL('../../test/vectors/stix/', import.meta.url);
const answers = JSON.parse(readFileSync(new URL('answers.json', CORPUS), 'utf8')) as Record<
  string,
  { valid: boolean; tlp?: string; problem?: string; why: string }
>;
const files = readdirSync(CORPUS).filter((f) => f.endsWith('.json') && f !== 'answers.json');

describe('the STIX corpus (test/vectors/stix) gets the answer STIX 2.1 gives', () => {
  test('every bundle of the corpus has an answer, and every answer a bundle', () => {
    expect(files.sort()).toEqual(Object.keys(answers).sort());
  });

  test.each(files)('%s', (file) => {
    const answer = answers[file];
    if (!answer) throw new Error(`${file} has no answer in answers.json`);
    const result = checkStixBundle(JSON.parse(readFileSync(new URL(file, CORPUS), 'utf8')));
    const said = result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
    expect({ valid: result.ok, said }, answer.why).toMatchObject({
      valid: answer.valid,
      ...(answer.problem
        ? { said: expect.arrayContaining([expect.stringContaining(answer.problem)]) }
        : {}),
    });
    if (result.ok) expect(result.summary.tlp, answer.why).toBe(answer.tlp);
  });
});

/** STIX 2.1 §9 examples, and the OASIS pattern validator's 2.1 cases (cti-pattern-validator). */
const VALID_PATTERNS = [
  "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
  "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
  "[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
  "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
  "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul']",
  "[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
  "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']",
  "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
  "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
  "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
  "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
  "[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']",
  "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES'^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
  "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
  "([file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']",
  '[file:size != 1280]',
  '[file:size <= 1024]',
  "[ipv4-addr:value NOT ISSUBSET '192.168.0.1/24']",
  "[file:file_name IN ('test.txt', 'test2.exe', 'README')]",
  '[file:size IN (1024, 2048, 4096)]',
  "[x_whatever:detected == t'2018-03-22T12:11:14.1Z']",
  "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
  '[foo:bar=1] REPEATS 9 TIMES',
  '( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets != 0) ])',
  "([windows-registry-key:key = 'a']) WITHIN 5 SECONDS WITHIN 6 SECONDS",
  "[network-traffic:src_port = 37020 AND user-account:user_id = 'root'] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' OR [ipv4-addr:value = '192.168.122.83'] START t'2016-06-01T03:55:00.123Z' STOP t'2016-06-01T04:30:24.743Z'",
  "[file:name = 'a' /* a comment */ ] // and another",
];

const INVALID_PATTERNS: Array<[string, string]> = [
  ['file:size = 1280', "at column 1, expected '[' or '('"],
  ['[file:size = ]', 'at column 14, expected a literal'],
  ['[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]', 'at column 20, expected a literal'],
  ['[file.size = 1280]', "at column 6, expected ':'"],
  ['[file:name MATCHES /.*\\.dll/]', 'at column 20, unexpected character'],
  [
    "[windows-registry-key:key = 'a'] WITHIN ]",
    'at column 41, expected a positive number of seconds',
  ],
  ["[windows-registry-key:key = 'a'] WITHIN 5 HOURS]", "at column 43, expected 'SECONDS'"],
  [
    "[windows-registry-key:key = 'a'] WITHIN -5 SECONDS",
    'at column 41, expected a positive number',
  ],
  ['[network-traffic:dst_ref.value ISSUBSET ]', 'at column 41, expected a string'],
  ["[file:hashes.MD5 =? 'cead3f77f6cda6ec00f57d76c9a6879f']", 'at column 19, unexpected character'],
  ["[x_whatever:detected == t'2457-73-22T32:81:84.1Z']", 'at column 25, expected a literal'],
  ["[artifact:payload_bin = b'====']", 'at column 25, expected a literal'],
  ['[foo:bar=1] within 2 seconds', 'at column 13, expected FOLLOWEDBY'],
  ["[file:hashes.'SHA-256' = 'f00']", "'f00' is not a valid SHA-256 hash"],
  ["[k:key = 'a'] WITHIN 5 SECONDS WITHIN 6 SECONDS", 'WITHIN qualifier is given twice'],
  ["([k:key = 'a'] REPEATS 2 TIMES REPEATS 3 TIMES)", 'REPEATS qualifier is given twice'],
  ["[k:key = 'a'] REPEATS 0 TIMES", 'REPEATS needs at least 1 time'],
  [
    '[file:extensions.windows-pebinary-ext.sections[*].entropy > 7.0]',
    'a property name with a hyphen must be quoted',
  ],
  ["[file:created = t'2026-02-30T00:00:00Z']", 'is not a calendar date'],
  ['('.repeat(200), 'is nested more than 64 deep'],
  [`[${'('.repeat(100)}a:b = 1`, 'is nested more than 64 deep'],
  ['[a:b = 1]'.padEnd(20_001, ' '), 'is longer than 20000 characters'],
];

describe('STIX 2.1 patterns', () => {
  test.each(VALID_PATTERNS)('accepts %s', (pattern) => {
    expect(parseStixPattern(pattern)).toMatchObject({ ok: true });
  });

  test('counts the observation expressions of a pattern', () => {
    expect(parseStixPattern("[a:b = 1] AND ([c:d = 'x'] FOLLOWEDBY [e:f = true])")).toEqual({
      ok: true,
      observations: 3,
    });
    expect(parseStixPattern("[file:name = 'a' AND EXISTS file:size]")).toMatchObject({ ok: true });
  });

  test.each(INVALID_PATTERNS)('refuses %s, saying where and why', (pattern, reason) => {
    const result = parseStixPattern(pattern);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(`at column ${result.column}, ${result.message}`).toContain(reason);
  });
});
