import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { consoleRoutes } from './console.ts';
import { installErrorHandler } from './errors.ts';

describe('the console’s files and pages', () => {
  let root: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hotline-console-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Hotline</title>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1);');
    writeFileSync(join(root, 'icon.svg'), '<svg/>');
    app = Fastify();
    installErrorHandler(app);
    await app.register(consoleRoutes, { root });
  });

  afterAll(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });

  const get = (url: string) => app.inject({ method: 'GET', url });

  test('a file of the build is served', async () => {
    const script = await get('/assets/index-abc123.js');
    expect(script.statusCode).toBe(200);
    expect(script.body).toBe('console.log(1);');
  });

  test.each(['/board', '/message/cn/0190a0b0-aaaa', '/incident/INC-7', '/'])(
    'a page of the console, %s, answers the console',
    async (url) => {
      const page = await get(url);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<title>Hotline</title>');
    },
  );

  test.each(['/assets/x.js', '/assets/index-old.css', '/assets/logo', '/favicon.ico', '/board.js'])(
    'a file the build does not hold, %s, is 404, not the page',
    async (url) => {
      const missing = await get(url);
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
      expect(missing.body).not.toContain('<title>');
    },
  );
});
