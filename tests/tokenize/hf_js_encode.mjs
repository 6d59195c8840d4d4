// Encodes texts with Hugging Face's JavaScript tokenizers (@huggingface/tokenizers), for the parity
// test and the benchmark. Usage:
//   node hf_js_encode.mjs MODULE_DIR TOKENIZER_JSON TEXTS_JSONL OUT_IDS_JSONL [--repeat N]
// TEXTS_JSONL: one JSON object per line with a "text" field (or a bare JSON string). Writes one
// JSON list of ids per line (special tokens added, no truncation or padding) and prints
// {"texts":N,"bytes":B,"seconds":S,"cpu_seconds":C} for the encoding loop alone (best of --repeat
// runs; wall and process CPU time).
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [moduleDir, tokenizerPath, textsPath, outPath, ...rest] = process.argv.slice(2);
if (!outPath) {
  console.error("usage: node hf_js_encode.mjs MODULE_DIR TOKENIZER_JSON TEXTS_JSONL OUT_IDS_JSONL [--repeat N]");
  process.exit(2);
}
let repeat = 1;
for (let i = 0; i < rest.length; ++i) if (rest[i] === "--repeat") repeat = Number(rest[++i]);

const entry = path.join(moduleDir, "@huggingface", "tokenizers", "dist", "tokenizers.mjs");
const { Tokenizer } = await import(pathToFileURL(entry).href);
const tokenizerJson = JSON.parse(readFileSync(tokenizerPath, "utf8"));
const tokenizer = new Tokenizer(tokenizerJson, {});

const texts = readFileSync(textsPath, "utf8").split("\n").filter((line) => line.length > 0)
  .map((line) => { const v = JSON.parse(line); return typeof v === "string" ? v : v.text; });
let bytes = 0;
for (const t of texts) bytes += Buffer.byteLength(t, "utf8");

let best = Infinity;
let bestCpu = Infinity;
let all = null;
for (let r = 0; r < repeat; ++r) {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const out = new Array(texts.length);
  for (let i = 0; i < texts.length; ++i) out[i] = tokenizer.encode(texts[i]).ids;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1e6);
  if (seconds < best) best = seconds;
  all = out;
}
writeFileSync(outPath, all.map((ids) => JSON.stringify(ids)).join("\n") + "\n");
console.log(JSON.stringify({ texts: texts.length, bytes, seconds: best, cpu_seconds: bestCpu }));
