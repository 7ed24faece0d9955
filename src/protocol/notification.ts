/**
 * A regime notification on the wire (docs/protocol.md § Notifications): a `notice` body whose
 * `subject` is the regime type's code, carrying the type's fields as one attachment of media type
 * `application/vnd.hotline.notification+json`:
 *
 *   { "type": "<code>", "regimes": "<version>", "fields": { … } }
 *
 * No wire format changes: a node that knows no regimes shows a notice with an attachment. The
 * fields are checked against the regime's schema before release (E_BAD_NOTIFICATION); a received
 * one is never refused for them (the receiver's checks are frozen), but shown with its problems.
 */
import { makeAttachment } from './attachments.ts';
import type { Attachment, Body } from './body.ts';
import { inputProblem } from './common.ts';
import { fromBase64url, fromUtf8, utf8 } from './encoding.ts';
import { jcs } from './jcs.ts';
import type { Regimes } from './regimes.ts';
import { withArticle } from './values.ts';
import type { NotificationView } from './views.ts';

export const NOTIFICATION_MEDIA_TYPE = 'application/vnd.hotline.notification+json';

export interface NotificationPayload {
  type: string;
  regimes: string;
  fields: Record<string, unknown>;
}

/** The attachment carrying a notification's fields. */
export function notificationAttachment(
  regimes: Regimes,
  type: string,
  fields: Record<string, unknown>,
): Attachment {
  const payload: NotificationPayload = { type, regimes: regimes.version, fields };
  return makeAttachment(`${type}.json`, NOTIFICATION_MEDIA_TYPE, utf8(jcs(payload)));
}

/** The payload of a notification attachment, or a sentence saying why it cannot be read. */
export function readNotification(attachment: Attachment): NotificationPayload | string {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(fromBase64url(attachment.data)));
  } catch {
    return 'is not base64url UTF-8 JSON';
  }
  const v = value as Partial<NotificationPayload> | null;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.type !== 'string' ||
    typeof v.regimes !== 'string' ||
    typeof v.fields !== 'object' ||
    v.fields === null ||
    Array.isArray(v.fields)
  )
    return 'must be {type, regimes, fields}';
  return v as NotificationPayload;
}

/** The notification a body carries: its one notification attachment, read; or undefined. */
export function notificationOf(body: Body): NotificationPayload | undefined {
  if (body.type !== 'notice') return undefined;
  const attachment = body.attachments.find((a) => a.mediaType === NOTIFICATION_MEDIA_TYPE);
  if (!attachment) return undefined;
  const payload = readNotification(attachment);
  return typeof payload === 'string' ? undefined : payload;
}

/**
 * What is wrong with a body's notification before release at `now`, as a sentence; undefined
 * when it is right or the body is no regime notification. A notice whose subject is a regime type
 * must carry exactly one notification attachment of that type, with fields a sender may give
 * (`sentFieldsProblem`).
 */
export function notificationProblem(regimes: Regimes, body: Body, now: Date): string | undefined {
  const attached = body.attachments.filter((a) => a.mediaType === NOTIFICATION_MEDIA_TYPE);
  const subject = body.notice?.subject;
  const isRegime = subject !== undefined && regimes.type(subject) !== undefined;
  if (!isRegime) {
    if (!attached.length) return undefined;
    return body.type === 'notice'
      ? `"${subject}" is not a notification type of regimes ${regimes.version}`
      : `a notification attachment belongs on a notice, not ${withArticle(body.type)}`;
  }
  if (attached.length !== 1)
    return `a ${subject} notice needs exactly one ${NOTIFICATION_MEDIA_TYPE} attachment with its fields`;
  const payload = readNotification(attached[0] as Attachment);
  if (typeof payload === 'string') return `the notification attachment ${payload}`;
  if (payload.type !== subject)
    return `the notification attachment is a ${payload.type}, but the notice's subject is ${subject}`;
  return sentFieldsProblem(regimes, subject, payload.fields, now);
}

/**
 * Why a sender may not give these fields of the type `code` at `now`, or undefined: they break
 * the type's schema or say something contradictory (`fieldsProblem`), a text is blank or has a
 * control character (`writtenFieldsProblem`), or a planned date is past (`plannedProblem`).
 * `where` names the fields in what the person wrote.
 */
export function sentFieldsProblem(
  regimes: Regimes,
  code: string,
  fields: Record<string, unknown>,
  now: Date,
  where = 'the notification attachment/fields',
): string | undefined {
  return (
    regimes.fieldsProblem(code, fields, where) ??
    writtenFieldsProblem(fields, where) ??
    regimes.plannedProblem(code, fields, now, where)
  );
}

/**
 * Why a text field a sender typed (`developer`) cannot go out, or undefined: blank, or with a
 * control character (`inputProblem`). The sender's check, beside the regime's schema; a received
 * notification is shown as it came.
 */
export function writtenFieldsProblem(
  fields: Record<string, unknown>,
  where: string,
): string | undefined {
  for (const [name, value] of Object.entries(fields)) {
    const problem = typeof value === 'string' ? inputProblem(value, 'text') : undefined;
    if (problem) return `${where}/${name} ${problem}`;
  }
  return undefined;
}

/** A notification attachment as a reader in `lang` sees it, with its problems. */
export function viewNotification(
  regimes: Regimes,
  attachment: Attachment,
  lang: string,
): NotificationView {
  const payload = readNotification(attachment);
  if (typeof payload === 'string')
    return {
      type: '',
      name: attachment.name,
      fields: [],
      problems: [`"${attachment.name}" ${payload}`],
    };
  const type = regimes.type(payload.type);
  const problems: string[] = [];
  if (payload.regimes !== regimes.version)
    problems.push(
      `"${attachment.name}" was written under regimes ${payload.regimes}; we use ${regimes.version}`,
    );
  const problem = regimes.fieldsProblem(payload.type, payload.fields);
  if (problem) problems.push(`"${attachment.name}": ${problem}`);
  const labelOf = (name: string) => {
    const field = type?.fields.find((f) => f.name === name);
    return field
      ? (field.label[lang] ?? field.label[regimes.languages[0] as string] ?? name)
      : name;
  };
  return {
    type: payload.type,
    name: regimes.name(payload.type, lang),
    fields: Object.entries(payload.fields).map(([name, value]) => ({
      name,
      label: labelOf(name),
      value,
    })),
    problems,
  };
}
