/** The second factor's labels (sign-in, Security page, step-up), under `sf`. */
export const factorsEn = {
  nav: 'Security',
  code: 'Code from your authenticator app, or a recovery code',
  verify: 'Verify',
  usePasskey: 'Use a passkey',
  secondStep: 'Second factor',
  secondStepExplain:
    'Your password was right. Now give a code from your authenticator app, a recovery code, or use your passkey.',
  title: 'Security: second factor',
  mustEnrol:
    'Your role must have a second factor. Enrol an authenticator app or a passkey before using the console.',
  none: 'No second factor yet.',
  factors: 'Your second factors',
  kind: { totp: 'authenticator app', passkey: 'passkey' },
  added: 'added',
  lastUsed: 'last used',
  remove: 'Remove',
  addTotp: 'Add an authenticator app',
  totpExplain:
    'Add this key to your authenticator app (or open the link on the phone), then type the six-digit code it shows.',
  secret: 'Key',
  confirm: 'Confirm',
  addPasskey: 'Add a passkey',
  passkeyLabel: 'Name of the passkey',
  recoveryLeft: 'Recovery codes left: {{count}}',
  newRecovery: 'Make new recovery codes',
  recoveryShown:
    'Recovery codes: each signs you in once if you lose your app and passkeys. Write them down now; they are not shown again.',
  done: 'Open the console',
  stepUp: 'Second factor for this decision: a code, or leave empty to use your passkey',
  stepUpChange:
    'To add, remove or renew a factor, your current one: a code, or leave empty to use your passkey',
};

export type FactorLabels = typeof factorsEn;
