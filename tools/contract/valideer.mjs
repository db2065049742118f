// Validates an AsyncAPI document with the official parser (@asyncapi/parser, its Spectral ruleset
// included) and prints every diagnostic as one JSON line: {"severity", "code", "path", "message"}.
// Exit status: 0 valid (no diagnostic of severity error), 1 invalid, 2 the tool itself failed.
// Usage: node tools/contract/valideer.mjs docs/contract/asyncapi.json
import { readFileSync } from "node:fs";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const pad = process.argv[2];
if (!pad) {
  console.error("usage: node valideer.mjs <asyncapi.json>");
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(pad, "utf8"), { source: pad });
const ernst = { [DiagnosticSeverity.Error]: "error", [DiagnosticSeverity.Warning]: "warning",
                [DiagnosticSeverity.Information]: "info", [DiagnosticSeverity.Hint]: "hint" };
let fouten = 0;
for (const d of diagnostics) {
  if (d.severity === DiagnosticSeverity.Error) fouten += 1;
  console.log(JSON.stringify({ severity: ernst[d.severity], code: d.code, path: d.path.join("."), message: d.message }));
}
console.log(JSON.stringify({ samenvatting: { fouten, diagnostieken: diagnostics.length, geparseerd: document !== undefined } }));
process.exit(fouten === 0 && document !== undefined ? 0 : 1);
