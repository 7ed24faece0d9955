/**
 * A message body as a reader in one language sees its structured part: every code and every
 * fixed value (precedence, status, TLP, state, attribution…) through the joint vocabulary, with
 * the warnings that apply. Free text is never translated here: the original stays authoritative
 * and the sender's own translations are labelled as the sender's.
 */
import type { Body } from './body.ts';
import type { Tlp } from './values.ts';
import type { RenderedBody, RenderedCode } from './views.ts';
import type { Vocabulary } from './vocabulary.ts';

/** The vocabulary code of each fixed value; `amber+strict` cannot be a code as it is. */
export function tlpCode(tlp: Tlp): string {
  return `tlp.${tlp.replace('+', '-')}`;
}

/**
 * The vocabulary codes a sender chose for `body`: its codes, its report's category, actions and
 * harm. The fixed values (precedence, status, TLP…) are bounded by the schema and have their
 * codes by construction; a notice's subject is a type of the regimes file, checked against it.
 */
export function chosenCodes(body: Body): string[] {
  const r = body.report;
  return [
    ...body.codes,
    ...(r ? [r.category, ...r.actionsTaken, ...r.actionsRequested] : []),
    ...(r?.harm ? [...r.harm.types, r.harm.severity] : []),
  ];
}

/** Renders the structured part of `body` in `lang` (falling back as the vocabulary says). */
export function renderBody(vocabulary: Vocabulary, body: Body, lang: string): RenderedBody {
  const shown = vocabulary.languageFor(lang);
  const all: RenderedCode[] = [];
  const r = (code: string) => {
    const rendered = vocabulary.render(code, lang);
    all.push(rendered);
    return rendered;
  };
  const list = (codes: readonly string[]) => codes.map(r);
  const out: RenderedBody = {
    lang: shown,
    precedence: r(`precedence.${body.precedence}`),
    status: r(`status.${body.status}`),
    tlp: r(tlpCode(body.tlp)),
    codes: list(body.codes),
    senderTranslations: body.translations.map((t) => ({
      ...t,
      label: vocabulary.ui('senderTranslation', shown),
    })),
    warnings: [],
  };
  if (body.text) out.text = { ...body.text, label: vocabulary.ui('original', shown) };
  const report = body.report;
  if (report) {
    out.report = {
      nature: r(`nature.${report.nature}`),
      category: r(report.category),
      actionsTaken: list(report.actionsTaken),
      actionsRequested: list(report.actionsRequested),
    };
    if (report.harm)
      out.report.harm = {
        types: list(report.harm.types),
        severity: r(report.harm.severity),
        reversibility: r(`reversibility.${report.harm.reversibility}`),
      };
    if (report.attribution)
      out.report.attribution = {
        actor: r(`attribution.${report.attribution.actor}`),
        confidence: r(`confidence.${report.attribution.confidence}`),
      };
  }
  if (body.state) out.state = r(`state.${body.state.to}`);
  if (body.notice) out.notice = r(body.notice.subject);
  const warnings = new Set<string>();
  for (const c of all) for (const w of c.warnings) warnings.add(`${c.code}: ${w}`);
  out.warnings = [...warnings];
  return out;
}
