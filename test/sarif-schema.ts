// Validating SARIF output against the published SARIF 2.1.0 schema (JSON Schema draft-04), as
// shipped in @microsoft/jest-sarif (used for nothing else).
import { createRequire } from 'node:module';

// ajv-draft-04 and ajv-formats are CommonJS modules with default exports.
const require = createRequire(import.meta.url);
const Ajv04: typeof import('ajv-draft-04').default = require('ajv-draft-04').default;
const addFormats: typeof import('ajv-formats').default = require('ajv-formats').default;

export function sarifValidator() {
  const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
  // The schema's language-tag pattern has a stray "]" that is an error in a unicode regular expression.
  const ajv = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}
