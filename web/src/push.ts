/**
 * Web Push from the console (docs/console.md § Notifications on this phone): subscribe this
 * browser with the node's VAPID public key (PushManager.subscribe through the service worker),
 * and hand the subscription — endpoint and public keys, never a private key — to the node.
 */
import type { PushDevice, PushSettings } from '../../src/protocol/views.ts';
import { call } from './api.ts';

export const pushApi = {
  settings: () => call<PushSettings>('GET', '/api/v1/me/push'),
  add: (subscription: PushSubscriptionJSON, lang: string, label: string) =>
    call<PushDevice>('POST', '/api/v1/me/push', {
      endpoint: subscription.endpoint,
      expirationTime: subscription.expirationTime ?? null,
      keys: subscription.keys,
      lang,
      label,
    }),
  remove: (id: string) => call<{ ok: true }>('DELETE', `/api/v1/me/push/${id}`),
};

/** Why this browser cannot receive pushes (a key of `push.why`), or undefined when it can. */
export function pushUnsupported(): 'noWorker' | 'noPush' | 'insecure' | undefined {
  if (!window.isSecureContext) return 'insecure';
  if (!('serviceWorker' in navigator)) return 'noWorker';
  if (!('PushManager' in window) || !('Notification' in window)) return 'noPush';
  return undefined;
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** Asks permission, subscribes this browser and registers it with the node. */
export async function subscribeThisBrowser(
  publicKey: string,
  lang: string,
  label: string,
): Promise<PushDevice> {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('permission');
  const registration = await navigator.serviceWorker.ready;
  const subscription =
    (await registration.pushManager.getSubscription()) ??
    (await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(publicKey),
    }));
  return pushApi.add(subscription.toJSON(), lang, label);
}

/** A short name for this device, from its user agent. */
export function deviceLabel(): string {
  const ua = navigator.userAgent;
  const device = /iPhone|iPad|Android|Windows|Mac OS X|Linux/.exec(ua)?.[0] ?? 'browser';
  const browser = /Firefox|Edg|Chrome|Safari/.exec(ua)?.[0] ?? '';
  return `${browser} ${device}`.trim().replace('Edg', 'Edge');
}
