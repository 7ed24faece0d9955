import { describe, expect, it } from 'vitest';
import { attachmentNameProblem, shownName } from './attachment-name.ts';
import { makeAttachment, viewAttachment } from './attachments.ts';

describe('an attachment name', () => {
  it('is one file name: no path, no dot names, nothing unseen', () => {
    for (const good of ['report.json', 'bundle (2).stix.json', '评估结果.json', '.notes'])
      expect(attachmentNameProblem(good), good).toBeUndefined();
    const bad: Array<[string, RegExp]> = [
      ['../../etc/passwd', /without \/ or \\/],
      ['a/b', /without \/ or \\/],
      ['..\\..\\boot.ini', /without \/ or \\/],
      ['.', /cannot be "\." or "\.\."/],
      ['..', /cannot be "\." or "\.\."/],
      ['   ', /cannot be blank/],
      ['report\r\nSet-Cookie: x=1', /control characters/],
      ['\u001b[2Jreport', /control characters/],
      ['evil\u202Etxt.exe', /direction marks/],
    ];
    for (const [name, said] of bad) expect(attachmentNameProblem(name), name).toMatch(said);
  });

  it('is shown with what it hides spelled out, so a received one cannot drive a terminal', () => {
    expect(shownName('\u001b[2Jreport\r\n')).toBe('\\u{1b}[2Jreport\\u{d}\\u{a}');
    expect(shownName('evil\u202Etxt.exe')).toBe('evil\\u{202e}txt.exe');
    expect(shownName('评估.json')).toBe('评估.json');
  });

  it('of a received attachment is kept as signed and shown with its problem', () => {
    const data = new TextEncoder().encode('root:x:0:0');
    const view = viewAttachment(makeAttachment('../../etc/passwd', 'text/plain', data));
    expect(view.name).toBe('../../etc/passwd');
    expect(view.intact).toBe(true);
    expect(view.problems).toEqual(['"../../etc/passwd": a name is a file name, without / or \\']);
  });
});
