// Bundle every src/*.ts widget entry into ../src/errorscope/static/ (ESM), plus its CSS file.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";

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
for (const f of readdirSync("src").filter((f) => f.endsWith(".css"))) copyFileSync(`src/${f}`, `${out}/${f}`);
console.log(`built ${entries.length} widget(s) into ${out}`);
