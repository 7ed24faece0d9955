/** The board's alarm lines and held drafts' escalation (web/src/alarm-items.ts); alarms.zh.ts has the same keys. */
export const alarmsEn = {
  heldFinal: 'Still not approved after every desk of the ladder.',
  heldDraft: 'held draft #{{short}} {{what}}',
  ours: 'our {{what}} to {{party}} #{{short}}',
  theirs: 'message from {{party}} #{{short}}',
  nodeSaid: 'The node’s log line',
  moreToAck_one: 'and {{count}} more received message of this incident to acknowledge',
  moreToAck_other: 'and {{count}} more received messages of this incident to acknowledge',
};
