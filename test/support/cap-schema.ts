/** Validates XML against the official CAP 1.2 schema (test/vectors/cap) with libxml2 in wasm. */
import { readFileSync } from 'node:fs';
import { validateXML } from 'xmllint-wasm';

const XSD = readFileSync(new URL('../vectors/cap/CAP-v1.2.xsd', import.meta.url), 'utf8');

export async function capSchemaErrors(xml: string): Promise<string[]> {
  const result = await validateXML({
    xml: [{ fileName: 'alert.xml', contents: xml }],
    schema: [{ fileName: 'CAP-v1.2.xsd', contents: XSD }],
  });
  return result.errors.map((e) => e.message);
}
