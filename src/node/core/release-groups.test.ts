/**
 * `nextGroup`: how queued releases are taken into commit groups (docs/architecture.md, A
 * message's life, step 1). A flash or immediate release waiting beyond the next group's reach
 * jumps into it, a bounded number per group, so nothing else waits for ever.
 */
import { describe, expect, test } from 'vitest';
import type { Precedence } from '../../protocol/values.ts';
import { MAX_GROUP_COMMIT, nextGroup, URGENT_AHEAD } from './node.ts';

interface Job {
  n: number;
  body: { precedence: Precedence };
}

let counter = 0;
const jobs = (count: number, precedence: Precedence): Job[] =>
  Array.from({ length: count }, () => ({ n: counter++, body: { precedence } }));
const ns = (list: Job[]) => list.map((job) => job.n);

describe('release groups', () => {
  test('a queue that fits one group is taken whole, in release order', () => {
    const queue = [...jobs(300, 'routine'), ...jobs(2, 'flash'), ...jobs(200, 'priority')];
    const before = ns(queue);
    expect(ns(nextGroup(queue))).toEqual(before);
    expect(queue).toEqual([]);
  });

  test('a flash behind a burst goes first in the next group; the rest keep their order', () => {
    const burst = jobs(2000, 'routine');
    const [flash] = jobs(1, 'flash') as [Job];
    const queue = [...burst, flash];
    const group = nextGroup(queue);
    expect(group).toHaveLength(MAX_GROUP_COMMIT);
    expect(group[0]).toBe(flash);
    expect(ns(group.slice(1))).toEqual(ns(burst.slice(0, MAX_GROUP_COMMIT - 1)));
    expect(ns(queue)).toEqual(ns(burst.slice(MAX_GROUP_COMMIT - 1)));
  });

  test('at most URGENT_AHEAD jump per group, so the oldest commit whatever keeps arriving', () => {
    const oldest = jobs(1000, 'routine');
    const queue = [...oldest];
    const taken: Job[] = [];
    // Each group, 500 immediate releases arrive: more than a group could take ahead.
    for (let g = 0; g < 3; g++) {
      queue.push(...jobs(500, 'immediate'));
      const waiting = queue.filter((job) => job.body.precedence === 'routine').length;
      const group = nextGroup(queue);
      expect(group).toHaveLength(MAX_GROUP_COMMIT);
      const routine = group.filter((job) => job.body.precedence === 'routine').length;
      expect(routine).toBe(Math.min(waiting, MAX_GROUP_COMMIT - URGENT_AHEAD));
      taken.push(...group);
    }
    const routine = taken.filter((job) => job.body.precedence === 'routine');
    expect(ns(routine)).toEqual(ns(oldest));
  });
});
