/**
 * The OpenAPI document a client generator reads at /openapi.json: each operation lists the
 * refusals its class of route can give, with the one error shape; and the error bodies the routes
 * send are still exactly what was thrown, and fit that shape.
 */
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type OneNode, openNode } from '../../test/support/node.ts';
import { readToken } from '../node/core/data.ts';

interface Response {
  description: string;
  content?: { 'application/json'?: { schema?: { $ref?: string } } };
}
interface Document {
  paths: Record<string, Record<string, { responses: Record<string, Response> }>>;
  components: { schemas: Record<string, object> };
}

let node: OneNode;
let doc: Document;

beforeAll(async () => {
  node = await openNode();
  doc = (await node.operator.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(async () => {
  await node?.close();
});

const responsesOf = (method: string, path: string) => {
  const operation = doc.paths[path]?.[method];
  if (!operation) throw new Error(`the document has no ${method} ${path}`);
  return operation.responses;
};

describe('the OpenAPI document', () => {
  test.each([
    // A change with a body, by a signed-in user.
    ['post', '/api/v1/messages', [400, 401, 403, 409, 413, 415, 421, 500], [404, 429]],
    // A read with nothing in its path and no query.
    ['get', '/api/v1/status', [401, 403, 421, 500, 503], [400, 404, 409, 413, 415]],
    // A read of one stored message.
    ['get', '/api/v1/messages/{party}/{id}', [400, 401, 403, 404, 503], [409, 413, 415]],
    // A change naming its target, without a body.
    ['delete', '/api/v1/tokens/{id}', [400, 401, 403, 404, 409], [413, 415]],
    // Signing in: public, throttled.
    ['post', '/api/v1/session', [400, 401, 403, 413, 415, 429], [404]],
  ] as const)('%s %s lists its refusals with the error shape', (method, path, listed, absent) => {
    const responses = responsesOf(method, path);
    expect(responses['200']).toEqual({ description: 'Default Response' });
    for (const status of listed) {
      const response = responses[status];
      expect(response?.description, `${method} ${path} ${status}`).toMatch(/^E_[A-Z_]+: /);
      expect(response?.content).toEqual({
        'application/json': { schema: { $ref: '#/components/schemas/Error' } },
      });
    }
    for (const status of absent) expect(responses[status], `${status}`).toBeUndefined();
  });

  test('says which codes answer each refusal', () => {
    expect(responsesOf('post', '/api/v1/session')['429']?.description).toMatch(/^E_THROTTLED: /);
    expect(responsesOf('post', '/api/v1/session')['403']?.description).toMatch(/^E_CSRF: /);
    expect(responsesOf('get', '/api/v1/status')['403']?.description).toMatch(
      /E_FORBIDDEN: .*E_CSRF: .*E_ENROL_SECOND_FACTOR: /,
    );
  });

  test('the error bodies sent are exactly as thrown, and fit the documented shape', async () => {
    const fits = new Ajv({ strict: false }).compile(doc.components.schemas.Error ?? false);
    const anonymous = await node.operator.inject({ method: 'GET', url: '/api/v1/status' });
    const badBody = await node.operator.inject({
      method: 'POST',
      url: '/api/v1/messages',
      headers: { authorization: `Bearer ${readToken(node.dir)}` },
      payload: { to: ['cn'], message: {}, extra: 1 },
    });
    const notJson = await node.operator.inject({
      method: 'POST',
      url: '/api/v1/session',
      headers: { 'content-type': 'text/plain' },
      payload: 'name=admin',
    });
    expect([anonymous.statusCode, badBody.statusCode, notJson.statusCode]).toEqual([401, 400, 415]);
    expect(anonymous.json()).toEqual({
      error: {
        code: 'E_UNAUTHORIZED',
        message: 'sign in, or give a valid bearer token (Authorization: Bearer hlt_…)',
      },
    });
    expect(badBody.json()).toEqual({
      error: {
        code: 'E_MALFORMED',
        message: 'request body has "extra", which this route does not take',
      },
    });
    expect(notJson.json()).toEqual({
      error: {
        code: 'E_MALFORMED',
        message: 'the body must be JSON (content-type application/json), not text/plain',
      },
    });
    for (const answer of [anonymous, badBody, notJson])
      expect(fits(answer.json()), JSON.stringify(fits.errors)).toBe(true);
  });
});
