/** 第二因素的中文标签（登录、安全页、再次验证），位于 `sf` 之下；键与 factors.en.ts 相同。 */
import type { FactorLabels } from './factors.en.ts';

type Same<T> = { [K in keyof T]: T[K] extends string ? string : Same<T[K]> };

export const factorsZh: Same<FactorLabels> = {
  nav: '安全',
  code: '身份验证器应用中的验证码，或恢复码',
  verify: '验证',
  usePasskey: '使用通行密钥',
  secondStep: '第二因素',
  secondStepExplain: '密码正确。请输入身份验证器应用中的验证码或恢复码，或使用通行密钥。',
  title: '安全：第二因素',
  mustEnrol: '您的角色必须设置第二因素。使用控制台前，请先登记身份验证器应用或通行密钥。',
  none: '尚未设置第二因素。',
  factors: '您的第二因素',
  kind: { totp: '身份验证器应用', passkey: '通行密钥' },
  added: '添加于',
  lastUsed: '最近使用',
  remove: '删除',
  addTotp: '添加身份验证器应用',
  totpExplain: '将此密钥添加到身份验证器应用（或在手机上打开链接），然后输入应用显示的六位验证码。',
  secret: '密钥',
  confirm: '确认',
  addPasskey: '添加通行密钥',
  passkeyLabel: '通行密钥名称',
  recoveryLeft: '剩余恢复码：{{count}}',
  newRecovery: '生成新的恢复码',
  recoveryShown: '恢复码：丢失应用和通行密钥时，每个恢复码可登录一次。请立即记下；之后不再显示。',
  done: '进入控制台',
  stepUp: '此项决定需要第二因素：输入验证码，或留空以使用通行密钥',
  stepUpChange: '添加、删除或更新因素需要现有的第二因素：输入验证码，或留空以使用通行密钥',
};
