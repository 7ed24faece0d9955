/*
 * The console's service worker: it makes the console installable on a phone and, when the node
 * cannot be reached, shows a page that says so instead of the browser's error. It never caches
 * the console's data or API answers: a stale board at 3 a.m. would mislead.
 */
const CACHE = 'hotline-offline-v1';
const OFFLINE = '/offline.html';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.add(new Request(OFFLINE, { cache: 'reload' })))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  if (event.request.mode !== 'navigate') return;
  event.respondWith(fetch(event.request).catch(() => caches.match(OFFLINE)));
});

/*
 * Web Push (docs/console.md § Notifications on this phone): the node pushes, encrypted for this
 * browser, what a person needs to open a message awaiting acknowledgement — never its text. One
 * notification per message (its tag): a later escalation step replaces the earlier one.
 */
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: 'Hotline', body: event.data ? event.data.text() : '' };
  }
  const flash = data.precedence === 'flash';
  event.waitUntil(
    self.registration.showNotification(data.title || 'Hotline', {
      body: data.body || '',
      tag: data.tag,
      lang: data.lang,
      icon: '/icon-192.png',
      badge: '/icon-192.png',
      renotify: true,
      requireInteraction: flash,
      vibrate: flash ? [300, 100, 300, 100, 300] : [200],
      data: { url: data.url || '/board' },
    }),
  );
});

/** A tap opens the message in a console window already open, or in a new one. */
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url || '/board', self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const w of windows)
        if (new URL(w.url).origin === self.location.origin && 'navigate' in w)
          return w.navigate(url).then((c) => (c || w).focus());
      return self.clients.openWindow(url);
    }),
  );
});
