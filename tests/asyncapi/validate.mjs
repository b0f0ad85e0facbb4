// Validates AsyncAPI documents with the official parser (@asyncapi/parser), as CI does:
//   node tests/asyncapi/validate.mjs docs/asyncapi.json [more.json ...]
// Prints each diagnostic; exits 1 when any document has an error (severity 0).
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const parser = new Parser();
let failed = false;
for (const path of process.argv.slice(2)) {
  const diagnostics = await parser.validate(await readFile(path, "utf8"));
  const errors = diagnostics.filter((d) => d.severity === 0);
  for (const d of diagnostics) {
    console.log(`${path}: ${["error", "warning", "info", "hint"][d.severity]} ${d.code}: ${d.message} at ${d.path.join("/")}`);
  }
  if (errors.length) failed = true;
  else console.log(`${path}: valid (${diagnostics.length} non-error diagnostics)`);
}
process.exit(failed ? 1 : 0);
