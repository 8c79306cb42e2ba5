// Runs the ELM of the shipped DTR Libraries with cql-execution + cql-exec-fhir (the engine DTR SMART
// apps use) against a patient Bundle, and prints {library: {define: value}} as JSON on stdout.
//   node run-elm.js <questionnaire folder> <patient bundle.json> <Library name>...
const fs = require("fs");
const path = require("path");
const cql = require("cql-execution");
const cqlfhir = require("cql-exec-fhir");

const [folder, bundleFile, ...names] = process.argv.slice(2);
const resources = fs.readdirSync(folder).filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(fs.readFileSync(path.join(folder, f), "utf8")));
const elmOf = (library) => {
  const content = library.content.find((c) => c.contentType === "application/elm+json");
  return JSON.parse(Buffer.from(content.data, "base64").toString("utf8"));
};
const libraries = {};
for (const r of resources.filter((r) => r.resourceType === "Library")) libraries[r.name] = elmOf(r);
const valueSets = {};
for (const vs of resources.filter((r) => r.resourceType === "ValueSet")) {
  valueSets[vs.url] = { [vs.version]: vs.expansion.contains.map((c) => ({ code: c.code, system: c.system, version: c.version })) };
}
const codeService = new cql.CodeService(valueSets);
async function main() {
const out = {};
for (const name of names) {
  const repository = new cql.Repository(libraries);
  const library = new cql.Library(libraries[name], repository);
  const executor = new cql.Executor(library, codeService);
  const source = cqlfhir.PatientSource.FHIRv401();
  source.loadBundles([JSON.parse(fs.readFileSync(bundleFile, "utf8"))]);
  const results = await executor.exec(source, new cql.DateTime(2030, 5, 10, 0, 0, 0, 0, 0));
  const patient = Object.values(results.patientResults)[0];
  out[name] = Object.fromEntries(Object.entries(patient).filter(([k]) => k !== "Patient"));
}
process.stdout.write(JSON.stringify(out));
}
main().catch((error) => { console.error(error); process.exit(1); });
