/** Which push services a subscription may point at (notify.push.services). */
import { describe, expect, test } from 'vitest';
import { allowedPushService } from './push.ts';

const SERVICES = ['fcm.googleapis.com', '.push.apple.com', 'http://127.0.0.1:8080'];

describe('allowed push services', () => {
  test.each([
    ['https://fcm.googleapis.com/fcm/send/abc', true],
    ['https://web.push.apple.com/QGx', true],
    ['http://127.0.0.1:8080/push/1', true],
    // Plain HTTP only where an origin allows it; no look-alike hosts; nothing else.
    ['http://fcm.googleapis.com/fcm/send/abc', false],
    ['https://fcm.googleapis.com.evil.example/x', false],
    ['https://push.apple.com.evil.example/x', false],
    ['http://127.0.0.1:8081/push/1', false],
    ['https://collector.example/steal', false],
    ['not a url', false],
  ])('%s → %s', (endpoint, allowed) => {
    expect(allowedPushService(endpoint, SERVICES)).toBe(allowed);
  });
});
