/**
 * The live feed (/api/v1/feed): one WebSocket per console, reconnected at once when it drops. The
 * console shows the feed's state in every page: a silent console is the worst failure, so "down"
 * is loud (banner and tone) from the moment the socket closes or goes quiet.
 */

import type { FeedFrame } from '../../src/protocol/views.ts';

export type FeedState = 'connecting' | 'up' | 'down';

/** The node pings every 10 s; this long without a frame means the link to it is gone. */
const QUIET_MS = 25_000;
const SESSION_ENDED = 4401;

export interface FeedOptions {
  onFrame(frame: FeedFrame): void;
  onState(state: FeedState, attempt: number): void;
  onSessionEnded(): void;
}

/** Opens the feed; returns a function that closes it for good. */
export function openFeed(options: FeedOptions): () => void {
  let socket: WebSocket | undefined;
  let attempt = 0;
  let closed = false;
  let quiet: ReturnType<typeof setTimeout> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const watch = () => {
    clearTimeout(quiet);
    quiet = setTimeout(() => socket?.close(), QUIET_MS);
  };
  const connect = () => {
    options.onState(attempt === 0 ? 'connecting' : 'down', attempt);
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/feed`;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onmessage = (event) => {
      watch();
      let frame: FeedFrame;
      try {
        frame = JSON.parse(String(event.data)) as FeedFrame;
      } catch {
        return;
      }
      if (frame.type === 'hello') {
        attempt = 0;
        options.onState('up', 0);
      }
      options.onFrame(frame);
    };
    ws.onclose = (event) => {
      clearTimeout(quiet);
      if (closed) return;
      if (event.code === SESSION_ENDED) {
        options.onSessionEnded();
        return;
      }
      attempt += 1;
      options.onState('down', attempt);
      // Quickly at first: a node restart is back within a second or two.
      retry = setTimeout(connect, Math.min(500 * 2 ** (attempt - 1), 5000));
    };
    watch();
  };
  connect();
  return () => {
    closed = true;
    clearTimeout(quiet);
    clearTimeout(retry);
    socket?.close();
  };
}
