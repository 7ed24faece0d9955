/**
 * The operator console (web/, built into web/dist by `npm run build`), served by the node on the
 * operator listener at `/`. Any path that is not a file of the build nor one of the node's routes
 * (`RESERVED`, in any case) answers the console's index.html, so a reload on /board or
 * /message/cn/… opens that page — unless it asks for a file (under /assets/, or named with a
 * file's extension): a missing file is a 404, not a page a browser would run as a script.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { ApiError, MAX_PATH_PART, PATH_PART_TOO_LONG } from './errors.ts';

export const WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

/**
 * Only the console's own files run, and nothing from elsewhere loads: a second wall behind the
 * console's rule of rendering the other side's text as text.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths of the node's own routes, in any case: never answered with the console's page. */
const RESERVED = ['/api/', '/federation/', '/healthz', '/metrics', '/openapi.json'];

/** The extensions of the files a build holds: a path ending in one asks for a file, not a page. */
const FILE_EXTENSION =
  /\.(?:js|mjs|cjs|css|map|json|webmanifest|html?|png|jpe?g|gif|svg|ico|webp|avif|woff2?|ttf|otf|txt|xml|wasm)$/i;

/** Whether `path` asks for a file of the build rather than a page of the console. */
function asksForFile(path: string): boolean {
  return path.toLowerCase().startsWith('/assets/') || FILE_EXTENSION.test(path);
}

function filesUnder(root: string): Set<string> {
  const out = new Set<string>();
  if (!existsSync(root)) return out;
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) out.add(relative(root, join(entry.parentPath, entry.name)));
  return out;
}

export const consoleRoutes: FastifyPluginAsync<{ root?: string }> = async (
  app,
  { root = WEB_DIST },
) => {
  const files = filesUnder(root);
  await app.register(fastifyStatic, { root, serve: false });
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const lower = path.toLowerCase();
    if (RESERVED.some((r) => (r.endsWith('/') ? lower.startsWith(r) : lower === r))) {
      // A route's path part too long for the router fell through to here: refused as a POST is.
      if (path.split('/').some((part) => part.length > MAX_PATH_PART))
        throw new ApiError(400, 'E_MALFORMED', PATH_PART_TOO_LONG);
      // /API/V1/STATUS or /HEALTHZ: routes are matched as written, and a prober must not get a page.
      const hint = lower !== path ? ` (routes are lowercase: ${lower})` : '';
      throw new ApiError(404, 'E_NOT_FOUND', `no route ${request.method} ${path}${hint}`);
    }
    reply.header('content-security-policy', CONSOLE_CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (!files.has('index.html'))
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The console is not built: run `npm run build`, then restart the node.\n');
    let file = 'index.html';
    try {
      const wanted = decodeURIComponent(path.slice(1));
      if (files.has(wanted)) file = wanted;
    } catch {
      // a malformed path opens the console, which shows its own "not found"
    }
    // A file the build does not hold (an old hash after an upgrade, a typo): the page instead
    // would be run as a script or style and fail in silence.
    if (file === 'index.html' && path !== '/index.html' && asksForFile(path))
      throw new ApiError(404, 'E_NOT_FOUND', `the console has no file ${path}`);
    // Built files carry their hash in their name; index.html must always be fetched fresh.
    reply.header(
      'cache-control',
      file.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    return reply.sendFile(file, { cacheControl: false });
  });
};
