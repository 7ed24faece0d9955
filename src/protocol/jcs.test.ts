/**
 * JCS against RFC 8785's own examples and the test data of its authors
 * (github.com/cyberphone/json-canonicalization, testdata/input → testdata/output).
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './encoding.ts';
import { jcs, jcsBytes } from './jcs.ts';

describe('JCS (RFC 8785)', () => {
  it('writes the §3.2.2 example as the UTF-8 bytes printed in §3.2.4', () => {
    const input = `{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`;
    const expected =
      '7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 6c 73 65 5d 2c 22 6e ' +
      '75 6d 62 65 72 73 22 3a 5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 65 2b 33 30 ' +
      '2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 ' +
      '5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d';
    expect(toHex(jcsBytes(JSON.parse(input)))).toBe(expected.replaceAll(' ', ''));
    expect(jcs(JSON.parse(input))).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units, as in §3.2.3', () => {
    const input = `{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    expect(jcs(JSON.parse(input))).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
        '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  // Appendix B: IEEE 754 bit patterns and their canonical text.
  const APPENDIX_B: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  const double = (bits: string) => new DataView(fromHex(bits).buffer).getFloat64(0);

  it.each(APPENDIX_B)('writes the double %s as %s (Appendix B)', (bits, text) => {
    expect(jcs(double(bits))).toBe(text);
    expect(jcs([double(bits)])).toBe(`[${text}]`);
  });

  it.each([
    ['7fffffffffffffff', 'NaN'],
    ['7ff0000000000000', 'Infinity'],
  ])('refuses the double %s (%s), which JSON cannot carry', (bits) => {
    expect(() => jcs(double(bits))).toThrow();
  });

  // cyberphone/json-canonicalization testdata: each input file and its expected output file.
  const TESTDATA: [string, string, string][] = [
    [
      'arrays',
      '[\n  56,\n  {\n    "d": true,\n    "10": null,\n    "1": [ ]\n  }\n]',
      '[56,{"1":[],"10":null,"d":true}]',
    ],
    [
      'french',
      '{\n  "peach": "This sorting order",\n  "péché": "is wrong according to French",\n  "pêche": "but canonicalization MUST",\n  "sin":   "ingnore locale"\n}\n',
      '{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ingnore locale"}',
    ],
    [
      'structures',
      '{\n  "1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0},\n  "10": { },\n  "": "empty",\n  "a": { },\n  "111": [ { } ],\n  "A": { }\n}',
      '{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}',
    ],
    [
      'unicode',
      '{\n  "Unnormalized Unicode":"\\u1e0d\\u0307"\n}\n',
      '{"Unnormalized Unicode":"\u1e0d\u0307"}',
    ],
    [
      'values',
      '{\n  "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],\n  "escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
      '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","literals":[null,true,false],"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}',
    ],
    [
      'weird',
      '{\n  "\\u20ac": "Euro Sign",\n  "1": "One",\n  "\\u0080": "Control\\u007f",\n  "\\ud83d\\ude02": "Smiley",\n  "\\u00f6": "Latin Small Letter O With Diaeresis",\n  "\\ufb33": "Hebrew Letter Dalet With Dagesh",\n  "</script>": "Browser Challenge"\n}\n',
      '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😂":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    ],
  ];

  it.each(TESTDATA)("canonicalizes the authors' %s test file", (_name, input, output) => {
    expect(jcs(JSON.parse(input))).toBe(output);
  });

  it('keeps array order, drops nothing but whitespace, and leaves Unicode unnormalized', () => {
    expect(jcs({ b: 1, a: [1, 'é'], '€': 2, '\r': 3 })).toBe('{"\\r":3,"a":[1,"é"],"b":1,"€":2}');
    expect(jcs(['b', 'a', { z: [], y: {} }])).toBe('["b","a",{"y":{},"z":[]}]');
    expect(jcs('e\u0301')).not.toBe(jcs('\u00e9'));
  });

  it('escapes control characters and lone surrogates, and nothing else', () => {
    expect(jcs('\u0000\u0008\u0009\u000a\u000c\u000d\u001f')).toBe(
      '"\\u0000\\b\\t\\n\\f\\r\\u001f"',
    );
    expect(jcs('\u2028\u2029/<>&')).toBe('"\u2028\u2029/<>&"');
    expect(jcs('\ud800')).toBe('"\\ud800"');
  });

  it('refuses a value that has no JSON text', () => {
    expect(() => jcs(undefined)).toThrow(TypeError);
  });

  it('writes a value already in key order as it would one whose members must be sorted', () => {
    // Sorted input takes V8's JSON.stringify; anything else the package: both must agree.
    const sorted = { a: { '10': 1, '9': [true, null, -0, 1e21] }, b: 'x\u2028', c: 0.1 };
    expect(jcs(sorted)).toBe('{"a":{"10":1,"9":[true,null,0,1e+21]},"b":"x\u2028","c":0.1}');
    expect(jcs({ c: 0.1, b: 'x\u2028', a: { '9': [true, null, -0, 1e21], '10': 1 } })).toBe(
      jcs(sorted),
    );
    expect(jcs({ a: 1, b: undefined, c: new Date(0) })).toBe(
      '{"a":1,"c":"1970-01-01T00:00:00.000Z"}',
    );
    expect(() => jcs({ a: Number.NaN })).toThrow();
    expect(() => jcs({ a: [Number.POSITIVE_INFINITY] })).toThrow();
  });
});
