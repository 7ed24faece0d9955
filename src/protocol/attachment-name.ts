/**
 * An attachment's name, as a sender may give it and as anyone may show or save it. The name is a
 * file name a receiver may save under: a sender's node refuses any other at release
 * (E_BAD_ATTACHMENT); a received one is kept as signed, shown with the problem, and written only
 * through `shownName`, never used as a path.
 */

/** Bidirectional controls: they make `evil\u202Etxt.exe` read as `evilexe.txt`. */
const DIRECTION_MARKS = new Set([0x200e, 0x200f, 0x061c, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e]);
for (let c = 0x2066; c <= 0x2069; c++) DIRECTION_MARKS.add(c);

/** A character no attachment name may hold: a C0 or C1 control, DEL, or a direction mark. */
function unseen(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || DIRECTION_MARKS.has(c);
}

/**
 * An attachment's name as it may be shown or written into a sentence: each control character
 * or direction mark as `\u{…}`, so a hostile name cannot move a terminal's cursor or reorder
 * what is read. The name itself is kept as received (it is part of the signed body).
 */
export function shownName(name: string): string {
  let out = '';
  for (const ch of name) {
    const c = ch.codePointAt(0) as number;
    out += unseen(c) ? `\\u{${c.toString(16)}}` : ch;
  }
  return out;
}

/**
 * Why a name cannot be an attachment's, or undefined: a name is one file name, which whoever
 * saves it can use as it is — no `/` or `\` (a path, `../../etc/passwd`), not `.` or `..`, not
 * blank, and no control character or direction mark.
 */
export function attachmentNameProblem(name: string): string | undefined {
  const said = `"${shownName(name)}"`;
  if (name === '.' || name === '..') return `${said}: a name cannot be "." or ".."`;
  if (!name.trim()) return `${said}: a name cannot be blank`;
  if (/[/\\]/.test(name)) return `${said}: a name is a file name, without / or \\`;
  if ([...name].some((ch) => unseen(ch.codePointAt(0) as number)))
    return `${said}: a name cannot hold control characters or direction marks`;
  return undefined;
}
