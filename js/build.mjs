// Bundle every src/*.ts widget entry into ../src/errorscope/static/ (ESM), plus its CSS file.
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";

const out = "../src/errorscope/static";
mkdirSync(out, { recursive: true });
const entries = readdirSync("src").filter((f) => f.endsWith(".ts")).map((f) => `src/${f}`);
await build({
  entryPoints: entries,
  outdir: out,
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  logLevel: "warning",
});
const base = readFileSync("src/lib/base.css", "utf8");
for (const f of readdirSync("src").filter((f) => f.endsWith(".css")))
  writeFileSync(`${out}/${f}`, `${base}\n${readFileSync(`src/${f}`, "utf8")}`);
console.log(`built ${entries.length} widget(s) into ${out}`);
