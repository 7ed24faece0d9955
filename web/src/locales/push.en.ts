/** Web Push on this device (web/src/pages/PushDevices.tsx); push.zh.ts has the same keys. */
export const pushEn = {
  title: 'Notifications on this phone or browser',
  explain:
    'When a message waits for you at a desk where you are on duty, the node notifies the devices you subscribe here, even with the console closed. The notification names the message, never its text; tapping it opens the message to acknowledge.',
  subscribe: 'Notify this device',
  subscribed: 'This device will be notified.',
  none: 'No device subscribed.',
  device: 'Device',
  service: 'Push service',
  since: 'Since',
  last: 'Last delivered',
  never: 'not yet',
  error: 'Last failure',
  remove: 'Remove',
  removed: 'Device removed.',
  why: {
    noKey:
      'This node cannot send notifications yet (it has no Web Push key): ask an administrator.',
    insecure: 'Notifications need the console on https:// (or localhost).',
    noWorker: 'This browser cannot run the console’s service worker, so it cannot be notified.',
    noPush:
      'This browser has no Web Push: install the console on the home screen (iPhone) or use another browser.',
    permission: 'Notifications are blocked for this site: allow them in the browser’s settings.',
    failed: 'This browser could not subscribe (its push service is unreachable): {{detail}}',
  },
};
