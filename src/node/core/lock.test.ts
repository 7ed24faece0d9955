import { expect, test } from 'vitest';
import { Lock } from './lock.ts';

/** Holds the lock until `release` is called; records the order in which holders ran. */
function holder(lock: Lock, order: string[], name: string, urgent = false) {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const done = lock.run(async () => {
    order.push(name);
    await held;
  }, urgent);
  return { release: () => release(), done };
}

const tick = () => new Promise((r) => setImmediate(r));

test('one holder at a time, in arrival order, urgent waiters first', async () => {
  const lock = new Lock();
  const order: string[] = [];
  const first = holder(lock, order, 'first');
  const routine = [1, 2, 3].map((i) => holder(lock, order, `routine ${i}`));
  const flash = holder(lock, order, 'flash', true);
  await tick();
  expect(order).toEqual(['first']);
  first.release();
  await tick();
  expect(order).toEqual(['first', 'flash']);
  flash.release();
  for (const r of routine) {
    await tick();
    r.release();
  }
  await Promise.all([first.done, flash.done, ...routine.map((r) => r.done)]);
  expect(order).toEqual(['first', 'flash', 'routine 1', 'routine 2', 'routine 3']);
});

test('a stream of urgent work lets a waiting holder through after four', async () => {
  const lock = new Lock();
  const order: string[] = [];
  const first = holder(lock, order, 'first');
  const routine = holder(lock, order, 'routine');
  const urgent = [1, 2, 3, 4, 5, 6].map((i) => holder(lock, order, `urgent ${i}`, true));
  first.release();
  for (const h of [...urgent.slice(0, 4), routine, ...urgent.slice(4)]) {
    await tick();
    h.release();
  }
  await Promise.all([first.done, routine.done, ...urgent.map((u) => u.done)]);
  expect(order).toEqual([
    'first',
    'urgent 1',
    'urgent 2',
    'urgent 3',
    'urgent 4',
    'routine',
    'urgent 5',
    'urgent 6',
  ]);
});

test('a holder that throws frees the lock for the next', async () => {
  const lock = new Lock();
  await expect(lock.run(() => Promise.reject(new Error('failed')))).rejects.toThrow('failed');
  expect(await lock.run(async () => 'next')).toBe('next');
});
