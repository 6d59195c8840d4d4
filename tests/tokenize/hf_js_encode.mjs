// Encodes texts with Hugging Face's JavaScript tokenizers (@huggingface/tokenizers) or, with
// --rust, with Hugging Face's Rust library (npm `tokenizers`, native bindings), for the parity
// tests and the benchmark. Usage:
//   node hf_js_encode.mjs MODULE_DIR TOKENIZER_JSON TEXTS_JSONL OUT_IDS_JSONL [--rust] [--repeat N]
// TEXTS_JSONL: one JSON object per line with a "text" field (or a bare JSON string). Writes one
// JSON list of ids per line (special tokens added, no truncation or padding: the file's own are
// turned off) and prints {"texts":N,"bytes":B,"seconds":S,"cpu_seconds":C} for the encoding loop
// alone (best of --repeat runs; wall and process CPU time). The Rust library encodes the texts in
// one encodeBatch call, which runs on RAYON_NUM_THREADS threads: set it to 1 for one thread.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [moduleDir, tokenizerPath, textsPath, outPath, ...rest] = process.argv.slice(2);
if (!outPath) {
  console.error("usage: node hf_js_encode.mjs MODULE_DIR TOKENIZER_JSON TEXTS_JSONL OUT_IDS_JSONL [--rust] [--repeat N]");
  process.exit(2);
}
let repeat = 1;
let rust = false;
for (let i = 0; i < rest.length; ++i) {
  if (rest[i] === "--repeat") repeat = Number(rest[++i]);
  else if (rest[i] === "--rust") rust = true;
}

const tokenizerJson = JSON.parse(readFileSync(tokenizerPath, "utf8"));
let encodeAll;  // texts -> Promise of their ids
if (rust) {
  const { Tokenizer } = createRequire(import.meta.url)(path.resolve(moduleDir, "tokenizers"));
  const tokenizer = Tokenizer.fromString(
    JSON.stringify({ ...tokenizerJson, truncation: null, padding: null }));
  encodeAll = async (texts) =>
    (await tokenizer.encodeBatch(texts, { addSpecialTokens: true })).map((e) => e.getIds());
} else {
  const entry = path.join(moduleDir, "@huggingface", "tokenizers", "dist", "tokenizers.mjs");
  const { Tokenizer } = await import(pathToFileURL(entry).href);
  const tokenizer = new Tokenizer(tokenizerJson, {});
  encodeAll = async (texts) => texts.map((text) => tokenizer.encode(text).ids);
}

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
  const out = await encodeAll(texts);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1e6);
  if (seconds < best) best = seconds;
  all = out;
}
writeFileSync(outPath, all.map((ids) => JSON.stringify(ids)).join("\n") + (all.length ? "\n" : ""));
console.log(JSON.stringify({ texts: texts.length, bytes, seconds: best, cpu_seconds: bestCpu }));
