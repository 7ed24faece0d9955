/** 看板告警行与待审批草稿的升级（web/src/alarm-items.ts）；键与 alarms.en.ts 相同。 */
export const alarmsZh = {
  heldFinal: '升级已到最后一级，仍无人批准。',
  heldDraft: '待审批草稿 #{{short}} {{what}}',
  ours: '我方发往{{party}}的{{what}} #{{short}}',
  theirs: '来自{{party}}的消息 #{{short}}',
  nodeSaid: '节点日志原文',
  moreToAck_one: '本事件另有 {{count}} 条收到的消息待确认',
  moreToAck_other: '本事件另有 {{count}} 条收到的消息待确认',
};
