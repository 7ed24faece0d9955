/**
 * What a node checks of an attachment before it releases one, and what it shows of a received
 * one: the name is one file name, the data decodes, matches its `sha256`, and — for a STIX 2.1
 * bundle — has the structure of one. A received attachment is never refused for these reasons (the receiver's checks are
 * part of the frozen protocol); it is shown with its problems instead.
 *
 * TLP applies to a message and everything it carries: a STIX bundle marked more restrictively
 * than the message (a TLP:RED bundle in a TLP:CLEAR message) would be handled by the message's
 * looser rule. Releasing such a message is refused (`E_TLP_BELOW_MARKING`); a received one is
 * shown with the problem.
 */
import { attachmentNameProblem, shownName } from './attachment-name.ts';
import type { Attachment } from './body.ts';
import { fromBase64url, fromUtf8, sha256, toHex } from './encoding.ts';
import { EVALUATION_MEDIA_TYPE, viewEvaluation } from './evaluation.ts';
import { checkStixBundle, STIX_MEDIA_TYPE } from './stix.ts';
import { TLPS, type Tlp } from './values.ts';
import type { AttachmentView } from './views.ts';

/** Whether TLP `a` restricts more than TLP `b`. */
export const moreRestrictive = (a: Tlp, b: Tlp): boolean => TLPS.indexOf(a) < TLPS.indexOf(b);

/** The sentence for a STIX bundle marked more restrictively than its message. */
function belowMarking(name: string, marking: Tlp, message: Tlp): string {
  return `"${shownName(name)}" is a STIX bundle marked TLP:${marking.toUpperCase()}, but the message is TLP:${message.toUpperCase()}: the message must be at least TLP:${marking.toUpperCase()}`;
}

/**
 * Decodes and checks one attachment; given the TLP of the message that carries it, also that a
 * STIX bundle's marking is not more restrictive than the message.
 */
export function viewAttachment(attachment: Attachment, messageTlp?: Tlp): AttachmentView {
  const view: AttachmentView = {
    name: attachment.name,
    mediaType: attachment.mediaType,
    bytes: 0,
    intact: false,
    problems: [],
  };
  const nameError = attachmentNameProblem(attachment.name);
  if (nameError) view.problems.push(nameError);
  let data: Uint8Array;
  try {
    data = fromBase64url(attachment.data);
  } catch {
    view.problems.push(`"${shownName(attachment.name)}": data is not canonical base64url`);
    return view;
  }
  view.bytes = data.length;
  view.intact = toHex(sha256(data)) === attachment.sha256;
  if (!view.intact)
    view.problems.push(`"${shownName(attachment.name)}": the data does not match its sha256`);
  if (attachment.mediaType === EVALUATION_MEDIA_TYPE) viewEvaluation(view, data);
  if (attachment.mediaType === STIX_MEDIA_TYPE) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fromUtf8(data));
    } catch {
      view.stix = { problems: [{ path: '', message: 'is not UTF-8 JSON' }] };
      view.problems.push(`"${shownName(attachment.name)}": a STIX bundle must be UTF-8 JSON`);
      return view;
    }
    const result = checkStixBundle(parsed);
    if (result.ok) {
      view.stix = { summary: result.summary };
      const marking = result.summary.tlp;
      if (messageTlp && marking && moreRestrictive(marking, messageTlp))
        view.problems.push(belowMarking(attachment.name, marking, messageTlp));
    } else {
      view.stix = { problems: result.problems };
      for (const p of result.problems)
        view.problems.push(
          `"${shownName(attachment.name)}" STIX ${p.path ? `${p.path}: ` : ''}${p.message}`,
        );
    }
  }
  return view;
}

/** The first problem of any attachment, as a sentence, or undefined. */
export function attachmentsProblem(attachments: readonly Attachment[]): string | undefined {
  for (const attachment of attachments) {
    const view = viewAttachment(attachment);
    if (view.problems.length)
      return view.problems.length === 1
        ? view.problems[0]
        : `${view.problems[0]} (and ${view.problems.length - 1} more problem(s))`;
  }
  return undefined;
}

/**
 * The first STIX attachment marked more restrictively than the message, as a sentence, or
 * undefined. Attachments with other problems are left to `attachmentsProblem`.
 */
export function tlpBelowMarking(body: {
  tlp: Tlp;
  attachments: readonly Attachment[];
}): string | undefined {
  for (const attachment of body.attachments) {
    const marking = viewAttachment(attachment).stix;
    const tlp = marking && 'summary' in marking ? marking.summary.tlp : undefined;
    if (tlp && moreRestrictive(tlp, body.tlp)) return belowMarking(attachment.name, tlp, body.tlp);
  }
  return undefined;
}

/** Builds an attachment from bytes: base64url data and its digest. */
export function makeAttachment(name: string, mediaType: string, data: Uint8Array): Attachment {
  return {
    name,
    mediaType,
    sha256: toHex(sha256(data)),
    data: Buffer.from(data).toString('base64url'),
  };
}
