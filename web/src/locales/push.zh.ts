/** 本设备的网页推送（web/src/pages/PushDevices.tsx）；键与 push.en.ts 相同。 */
export const pushZh = {
  title: '本手机或浏览器的通知',
  explain:
    '当您值班的席位有消息等待处理时，即使控制台未打开，节点也会通知您在此订阅的设备。通知只写明是哪条消息，不含正文；点按通知即可打开该消息并确认。',
  subscribe: '通知本设备',
  subscribed: '本设备将收到通知。',
  none: '尚未订阅任何设备。',
  device: '设备',
  service: '推送服务',
  since: '订阅时间',
  last: '最近送达',
  never: '尚无',
  error: '最近失败',
  remove: '移除',
  removed: '已移除该设备。',
  why: {
    noKey: '本节点尚不能发送通知（没有网页推送密钥），请联系管理员。',
    insecure: '通知要求通过 https://（或 localhost）访问控制台。',
    noWorker: '此浏览器无法运行控制台的 Service Worker，因此无法接收通知。',
    noPush: '此浏览器不支持网页推送：请将控制台添加到主屏幕（iPhone），或改用其他浏览器。',
    permission: '本网站的通知已被屏蔽，请在浏览器设置中允许。',
    failed: '此浏览器未能完成订阅（无法连接其推送服务）：{{detail}}',
  },
};
