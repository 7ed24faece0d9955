import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readToken } from '../../src/node/core/data.ts';
import { exportLedger } from '../../src/node/record/export.ts';
import { makeAttachment } from '../../src/protocol/attachments.ts';
import type { Draft } from '../../src/protocol/body.ts';
import { utf8 } from '../../src/protocol/encoding.ts';
import { STIX_MEDIA_TYPE } from '../../src/protocol/stix.ts';
import { DEFAULT_VOCABULARY_FILE, type VocabularyDocument } from '../../src/protocol/vocabulary.ts';
import { capSchemaErrors } from '../support/cap-schema.ts';
import { createPair, draft, eventually, type Pair, type Site } from '../support/pair.ts';
import { startTranslateServer, type TranslateServer } from '../support/translate-server.ts';

const API_KEY = 'mt-key-that-must-not-be-logged';
const PREVIOUS_VOCABULARY = fileURLToPath(
  new URL('../vectors/vocabulary/hotline-2026.2.json', import.meta.url),
);
const SHIPPED = JSON.parse(readFileSync(DEFAULT_VOCABULARY_FILE, 'utf8')) as VocabularyDocument;
let pair: Pair;
let mt: TranslateServer;

beforeAll(async () => {
  mt = await startTranslateServer(API_KEY);
  // Beijing has not yet moved to the shipped vocabulary: it runs the previous one (2026.2), and
  // its card says so — the migration every site goes through (docs/language.md).
  const vocabularyFile = PREVIOUS_VOCABULARY;
  pair = await createPair({}, (party) =>
    party === 'us'
      ? {
          machineTranslation: {
            url: mt.url,
            name: 'libre-test',
            apiKey: API_KEY,
            timeoutMs: 5000,
          },
        }
      : { vocabularyFile },
  );
  await pair.start(pair.us);
  await pair.start(pair.cn);
});
afterAll(async () => {
  await pair?.close();
  await mt?.close();
});

async function api(site: Site, method: string, path: string, body?: unknown) {
  const response = await fetch(`http://${site.operatorListen}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${readToken(site.dir)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field below
  return { status: response.status, body: (await response.json()) as any };
}

/** Sends from `site` to its peer and waits until the peer has it. */
async function send(from: Site, to: Site, message: Draft): Promise<string> {
  const sent = await api(from, 'POST', '/api/v1/messages', { to: [to.party], message });
  expect(sent.status).toBe(201);
  const id = sent.body.id as string;
  await eventually(async () => {
    const { body } = await api(to, 'GET', '/api/v1/inbox?limit=1000');
    return (body as Array<{ id: string }>).some((r) => r.id === id) ? true : undefined;
  });
  return id;
}

describe('vocabulary versions: Washington on the shipped 2026.3, Beijing still on 2026.2', () => {
  test('each side gets a clear warning in the status, and both still talk', async () => {
    expect(SHIPPED.version).toBe('2026.3');
    const { body } = await api(pair.us, 'GET', '/api/v1/status');
    expect(body.vocabulary).toMatchObject({ same: true, ours: { version: '2026.3' } });
    expect(body.peers[0].vocabulary).toMatchObject({
      same: false,
      theirs: { version: '2026.2' },
      warning: expect.stringMatching(/^cn uses vocabulary 2026\.2 .*, we use 2026\.3 /),
    });
    const zh = await api(pair.cn, 'GET', '/api/v1/vocabulary?lang=zh');
    expect(zh.body.peers[0].warning).toMatch(/^us 使用词汇表 2026\.3/);
    // Messages flow both ways across the versions.
    await send(pair.us, pair.cn, draft({ codes: ['phrase.investigating'] }));
    await send(pair.cn, pair.us, draft({ codes: ['phrase.investigating'] }));
  });

  test('a code new in 2026.3 is shown as unknown on the 2026.2 side, never dropped', async () => {
    const id = await send(
      pair.us,
      pair.cn,
      draft({ codes: ['phrase.investigating', 'phrase.avoid-miscalculation'] }),
    );
    const { status, body } = await api(pair.cn, 'GET', `/api/v1/messages/us/${id}?lang=zh`);
    expect(status).toBe(200);
    expect(body.rendered.codes).toMatchObject([
      { code: 'phrase.investigating', known: true, text: '我方正在调查。' },
      { code: 'phrase.avoid-miscalculation', known: false, text: 'phrase.avoid-miscalculation' },
    ]);
    expect(body.warnings[0]).toMatch(/^us 使用词汇表 2026\.3/);
    expect(body.warnings).toContain('phrase.avoid-miscalculation: 未知代码：不在词汇表 2026.2 中');
    // Washington knows the code: on its side it reads as text, in both languages.
    const own = await api(pair.us, 'GET', `/api/v1/messages/us/${id}?lang=zh`);
    expect(own.body.rendered.codes[1]).toMatchObject({ known: true, text: '双方应避免误判。' });
  });

  test('a code whose text changed reads differently on each side until both move', async () => {
    const id = await send(pair.us, pair.cn, draft({ codes: ['phrase.share-concern'] }));
    const theirs = await api(pair.cn, 'GET', `/api/v1/messages/us/${id}?lang=zh`);
    const ours = await api(pair.us, 'GET', `/api/v1/messages/us/${id}?lang=zh`);
    expect(ours.body.rendered.codes[0].text).toBe('我方与贵方有同样的关切。');
    expect(theirs.body.rendered.codes[0].text).toBe('我方理解并重视贵方关切。');
    // Which is why the reader on the old side is warned on every message from the new one.
    expect(theirs.body.warnings[0]).toMatch(/^us 使用词汇表 2026\.3/);
  });
});

describe('translations', () => {
  test('provenance is kept across a round trip, and local notes never travel', async () => {
    const id = await send(
      pair.cn,
      pair.us,
      draft({
        text: { lang: 'zh', body: '我方正在调查该系统的异常行为。' },
        translations: [{ lang: 'en', body: 'We are looking into the system.' }],
      }),
    );
    const person = await api(pair.us, 'POST', `/api/v1/messages/cn/${id}/translations`, {
      lang: 'en',
      text: 'We are investigating the anomalous behaviour of this system.',
      status: 'final',
      translator: 'us/linguist-2',
      desk: 'ops',
    });
    expect(person.status).toBe(201);
    // Recorded under a desk the translator does not staff: refused, as any act at a desk is.
    for (const path of ['translations', 'translations/machine'])
      expect(
        (
          await api(pair.us, 'POST', `/api/v1/messages/cn/${id}/${path}`, {
            lang: 'en',
            ...(path === 'translations'
              ? { text: 'Noted.', status: 'rough', translator: 'x' }
              : {}),
            desk: 'nodesk',
          })
        ).body.error?.code,
      ).toBe('E_FORBIDDEN');
    const machine = await api(pair.us, 'POST', `/api/v1/messages/cn/${id}/translations/machine`, {
      lang: 'en',
      desk: 'ops',
    });
    expect(machine.status).toBe(201);
    expect(mt.requests.at(-1)).toMatchObject({ source: 'zh', target: 'en', api_key: API_KEY });

    const { body: view } = await api(pair.us, 'GET', `/api/v1/messages/cn/${id}?lang=en`);
    // The original stays authoritative and in place; the sender's translation is marked as theirs.
    expect(view.rendered.text).toEqual({
      lang: 'zh',
      body: '我方正在调查该系统的异常行为。',
      label: 'original (authoritative)',
    });
    expect(view.rendered.senderTranslations).toEqual([
      { lang: 'en', body: 'We are looking into the system.', label: 'translation by the sender' },
    ]);
    expect(view.localTranslations).toMatchObject([
      {
        origin: 'local',
        kind: 'person',
        translator: 'us/linguist-2',
        status: 'final',
        sourceLang: 'zh',
        label:
          "local translation, not the sender's words · translated by us/linguist-2 · final translation",
      },
      {
        origin: 'local',
        kind: 'machine',
        translator: 'libre-test',
        status: 'rough',
        text: 'We are investigating the abnormal behaviour of the system.',
        label:
          "local translation, not the sender's words · machine translation by libre-test · rough translation",
      },
    ]);
    const listed = await api(pair.us, 'GET', `/api/v1/messages/cn/${id}/translations?lang=zh`);
    expect(listed.body.map((t: { label: string }) => t.label)).toEqual([
      '本方译文，并非发送方原话 · 译者：us/linguist-2 · 定稿译文',
      '本方译文，并非发送方原话 · 机器翻译：libre-test · 初译',
    ]);

    // Washington answers; nothing of its local notes reaches Beijing.
    const reply = await send(
      pair.us,
      pair.cn,
      draft({ type: 'reply', inReplyTo: id, text: { lang: 'en', body: 'Understood.' } }),
    );
    const { body: inbox } = await api(pair.cn, 'GET', '/api/v1/inbox?limit=1000');
    const received = (inbox as Array<{ id: string; body: unknown }>).find((r) => r.id === reply);
    expect(received?.body).toMatchObject({ translations: [], text: { body: 'Understood.' } });
    const everything = JSON.stringify(inbox);
    expect(everything).not.toContain('anomalous behaviour');
    expect(everything).not.toContain('abnormal behaviour');
    const { body: ownView } = await api(pair.cn, 'GET', `/api/v1/messages/cn/${id}?lang=en`);
    expect(ownView.localTranslations).toEqual([]);
    expect(ownView.rendered.senderTranslations[0].label).toBe('translation by the sender');
    const { body: outbox } = await api(pair.us, 'GET', '/api/v1/outbox?limit=1000');
    expect(JSON.stringify(outbox)).not.toContain('anomalous behaviour');
    // The endpoint's key never reaches the log.
    expect(pair.us.logs.join('')).not.toContain(API_KEY);
  });

  test('a failing endpoint, no endpoint, or no such message: a stable code, nothing stored', async () => {
    const id = await send(
      pair.cn,
      pair.us,
      draft({ text: { lang: 'zh', body: '我方正在调查该系统的异常行为。' } }),
    );
    mt.failWith = 500;
    const failed = await api(pair.us, 'POST', `/api/v1/messages/cn/${id}/translations/machine`, {
      lang: 'en',
      desk: 'ops',
    });
    mt.failWith = undefined;
    expect(failed).toMatchObject({
      status: 502,
      body: {
        error: {
          code: 'E_TRANSLATOR_FAILED',
          message: 'the machine-translation endpoint "libre-test" answered HTTP 500',
        },
      },
    });
    expect((await api(pair.us, 'GET', `/api/v1/messages/cn/${id}/translations`)).body).toEqual([]);
    const none = await api(pair.cn, 'POST', `/api/v1/messages/cn/${id}/translations/machine`, {
      lang: 'en',
      desk: 'ops',
    });
    expect(none).toMatchObject({ status: 409, body: { error: { code: 'E_NO_TRANSLATOR' } } });
    const missing = await api(pair.us, 'GET', `/api/v1/messages/cn/${uuidv7()}`);
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'E_NOT_FOUND' } } });
    const badStatus = await api(pair.us, 'POST', `/api/v1/messages/cn/${id}/translations`, {
      lang: 'en',
      text: 'x',
      status: 'polished',
      translator: 'me',
      desk: 'ops',
    });
    expect(badStatus).toMatchObject({ status: 400, body: { error: { code: 'E_MALFORMED' } } });
  });
});

const T = '2026-11-27T01:00:00.000Z';
const stixBundle = (ref: string) => ({
  type: 'bundle',
  id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
  objects: [
    {
      type: 'indicator',
      spec_version: '2.1',
      id: 'indicator--2f3c0d14-9c8e-4d5c-a1a8-0c4c2a7d5e11',
      created: T,
      modified: T,
      name: 'C2 server',
      pattern: "[ipv4-addr:value = '198.51.100.7']",
      pattern_type: 'stix',
      valid_from: T,
      created_by_ref: ref,
    },
    {
      type: 'identity',
      spec_version: '2.1',
      id: 'identity--8f0ee5d5-6a2b-4ac3-a0a4-0ad0a6a93f8e',
      created: T,
      modified: T,
      name: 'US-CERT',
    },
  ],
});

describe('STIX attachments', () => {
  test('a broken bundle is refused before release, with where and why', async () => {
    const bad = makeAttachment(
      'iocs.json',
      STIX_MEDIA_TYPE,
      utf8(JSON.stringify(stixBundle('identity--00000000-0000-4000-8000-000000000000'))),
    );
    const refused = await api(pair.us, 'POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ attachments: [bad] }),
    });
    expect(refused).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'E_BAD_ATTACHMENT',
          message:
            'attachment "iocs.json" STIX objects[0].created_by_ref: refers to identity--00000000-0000-4000-8000-000000000000, which is not in the bundle',
        },
      },
    });
  });

  test('a valid bundle travels and is summarized on the other side', async () => {
    const good = makeAttachment(
      'iocs.json',
      STIX_MEDIA_TYPE,
      utf8(JSON.stringify(stixBundle('identity--8f0ee5d5-6a2b-4ac3-a0a4-0ad0a6a93f8e'))),
    );
    const id = await send(pair.us, pair.cn, draft({ attachments: [good] }));
    const { body } = await api(pair.cn, 'GET', `/api/v1/messages/us/${id}`);
    expect(body.attachments).toMatchObject([
      {
        name: 'iocs.json',
        intact: true,
        problems: [],
        stix: { summary: { objects: 2, types: { indicator: 1, identity: 1 } } },
      },
    ]);
  });
});

describe('TLP of a message and of the STIX bundle it carries', () => {
  const TLP2_RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';
  const redBundle = () => {
    const b = stixBundle('identity--8f0ee5d5-6a2b-4ac3-a0a4-0ad0a6a93f8e');
    (b.objects[0] as Record<string, unknown>).object_marking_refs = [TLP2_RED];
    return makeAttachment('red-iocs.json', STIX_MEDIA_TYPE, utf8(JSON.stringify(b)));
  };

  test('a TLP:CLEAR message carrying a TLP:RED bundle is refused, and a TLP:RED one travels', async () => {
    const refused = await api(pair.us, 'POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ tlp: 'clear', attachments: [redBundle()] }),
    });
    expect(refused).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'E_TLP_BELOW_MARKING',
          message:
            'attachment "red-iocs.json" is a STIX bundle marked TLP:RED, but the message is TLP:CLEAR: the message must be at least TLP:RED',
        },
      },
    });
    const id = await send(pair.us, pair.cn, draft({ tlp: 'red', attachments: [redBundle()] }));
    const { body } = await api(pair.cn, 'GET', `/api/v1/messages/us/${id}`);
    expect(body.attachments).toMatchObject([{ problems: [], stix: { summary: { tlp: 'red' } } }]);
  });
});

describe('TLP:RED and CAP', () => {
  const incident = uuidv7();
  const report = (tlp: Draft['tlp']): Draft =>
    draft({
      type: 'incident.report',
      incident,
      precedence: 'flash',
      status: 'exercise',
      tlp,
      text: {
        lang: 'en',
        body: tlp === 'red' ? 'RED detail: model weights at 10.0.0.7' : 'Update.',
      },
      report: {
        nature: 'incident',
        category: 'category.weights-proliferation',
        harm: { types: [], severity: 'severity.extreme', reversibility: 'irreversible' },
        actionsTaken: [],
        actionsRequested: ['action.restrict-access'],
      },
    });

  test('CAP leaves TLP:RED messages out unless forced, and records the forcing', async () => {
    await send(pair.us, pair.cn, report('red'));
    await send(pair.us, pair.cn, { ...report('amber'), type: 'incident.update' });
    const plain = await api(pair.cn, 'POST', `/api/v1/incidents/${incident}/cap`, {});
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ messages: 1, excludedRed: 0 + 1 });
    expect(plain.body.xml).not.toContain('RED detail');
    expect(await capSchemaErrors(plain.body.xml)).toEqual([]);
    const stranger = await api(pair.cn, 'POST', `/api/v1/incidents/${incident}/cap`, {
      includeRed: {
        desk: 'nodesk',
        reason: 'joint review with the peer, approved by the director',
      },
    });
    expect(stranger.body.error?.code).toBe('E_FORBIDDEN');
    const forced = await api(pair.cn, 'POST', `/api/v1/incidents/${incident}/cap`, {
      includeRed: { desk: 'ops', reason: 'joint review with the peer, approved by the director' },
    });
    expect(forced.body).toMatchObject({
      messages: 2,
      excludedRed: 0,
      auditLeaf: expect.any(Number),
    });
    expect(forced.body.xml).toContain('RED detail');
    expect(await capSchemaErrors(forced.body.xml)).toEqual([]);

    const onlyRed = uuidv7();
    await send(pair.us, pair.cn, { ...report('red'), incident: onlyRed });
    const refused = await api(pair.cn, 'POST', `/api/v1/incidents/${onlyRed}/cap`, {});
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'E_TLP_RED' } } });
  });

  test('a ledger export withholds TLP:RED bodies unless a recorded forcing is in its log', async () => {
    const collect = async (options: Parameters<typeof exportLedger>[2]) => {
      let text = '';
      const summary = await exportLedger(
        pair.us.dir,
        (t) => {
          text += t;
        },
        options,
      );
      return { summary, text };
    };
    const withheld = await collect({});
    expect(withheld.summary.redWithheld).toBeGreaterThan(0);
    expect(withheld.text).not.toContain('RED detail');
    await expect(collect({ includeRed: { auditLeaf: 0 } })).rejects.toMatchObject({
      code: 'E_TLP_RED',
    });
    // Forced in under a desk the caller does not staff: refused, nothing recorded.
    const stranger = await api(pair.us, 'POST', '/api/v1/exports/red', {
      desk: 'nodesk',
      reason: 'court order 2026-114',
    });
    expect(stranger.status).toBe(403);
    expect(stranger.body.error.message).toContain('there is no desk "nodesk" on this node');
    // No desk named: recorded under the first the caller staffs (the first admin's is ops).
    const recorded = await api(pair.us, 'POST', '/api/v1/exports/red', {
      reason: 'court order 2026-114',
    });
    expect(recorded.status).toBe(201);
    const forced = await collect({ includeRed: { auditLeaf: recorded.body.leaf } });
    expect(forced.summary.redWithheld).toBe(0);
    expect(forced.text).toContain('RED detail');
    expect(forced.text).toContain('tlp-red-export');
    expect(forced.text).toContain('court order 2026-114');
    expect(forced.text).toMatch(/desk\\?":\\?"ops/);
  });
});
