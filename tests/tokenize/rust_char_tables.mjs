// Regenerates common/tokenize/rust_char_tables.inc: how Hugging Face's Rust `tokenizers` classifies
// every code point, read from the library's observable behaviour (npm `tokenizers`, which runs
// the Rust code through native bindings), one code point at a time. No table of another project
// is copied: each class is what the library does to a probe text. Usage:
//   node tests/tokenize/rust_char_tables.mjs build-deps/node_modules > common/tokenize/rust_char_tables.inc
// (about 30 s). The library's sources name the crates behind each decision; the Unicode versions
// in the comments below are those the tables agree with (checked against ICU's character ages).
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const moduleDir = process.argv[2];
if (!moduleDir) {
  console.error("usage: node rust_char_tables.mjs NODE_MODULES_DIR > rust_char_tables.inc");
  process.exit(2);
}
const tk = require(path.resolve(moduleDir, "tokenizers"));
const version = require(path.resolve(moduleDir, "tokenizers", "package.json")).version;

// A tokenizer.json around one normalizer or pre-tokenizer, to reach components (regex Split)
// that the bindings do not construct directly.
const fromJson = (normalizer, preTokenizer) =>
  tk.Tokenizer.fromString(JSON.stringify({
    version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer,
    pre_tokenizer: preTokenizer, post_processor: null, decoder: null,
    model: { type: "WordLevel", vocab: { a: 0 }, unk_token: "a" },
  }));
const regexMatches = (regex) => {
  const pre = fromJson(null, {
    type: "Split", pattern: { Regex: regex }, behavior: "Removed", invert: false,
  }).getPreTokenizer();
  return (s) => pre.preTokenizeString(s).length === 0;
};
const bert = (options) => tk.bertNormalizer({
  cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false, ...options,
});
const cleanText = bert({ cleanText: true });
const stripAccentsBert = bert({ stripAccents: true });
const nfd = tk.nfdNormalizer();
const stripAccents = tk.stripAccentsNormalizer();
const lowercase = tk.lowercase();
const bertPre = tk.bertPreTokenizer();
const digits = tk.digitsPreTokenizer(true);
const whitespaceSplit = tk.whitespaceSplitPreTokenizer();
const whitespace = tk.whitespacePreTokenizer();
const onigLetter = regexMatches("\\p{L}");
const onigNumber = regexMatches("\\p{N}");
const onigWord = regexMatches("\\w");
const onigSpace = regexMatches("\\s");
const pieces = (pre, s) => pre.preTokenizeString(s).length;

// name -> [comment, predicate on the one-code-point string s]
const classes = {
  kWhiteSpace: ["char::is_whitespace (WhitespaceSplit, BertPreTokenizer, Strip, clean_text); " +
                "equal to Oniguruma's \\s", (s) => pieces(whitespaceSplit, "a" + s + "b") === 2],
  kNumeric: ["char::is_numeric (Digits)", (s) => pieces(digits, "a" + s + "b") === 3],
  kBertPunctuation: ["BertPreTokenizer's and Punctuation's split: ASCII punctuation or P* " +
                     "(unicode_categories)", (s) => pieces(bertPre, "a" + s + "b") === 3],
  kCleanTextRemoved: ["dropped by BertNormalizer's clean_text: NUL, U+FFFD, C* without Cn " +
                      "(unicode_categories), not \\t \\n \\r", (s) => cleanText.normalizeString(s) === ""],
  kNonspacingMark: ["dropped by BertNormalizer's strip_accents after NFD: Mn (unicode_categories); " +
                    "only code points NFD keeps", (s) => nfd.normalizeString(s) === s &&
                    stripAccentsBert.normalizeString(s) === ""],
  kCombiningMark: ["dropped by the StripAccents normalizer: M* (unicode-normalization-alignments)",
                   (s) => stripAccents.normalizeString(s) === ""],
  kWord: ["\\w of the Whitespace pre-tokenizer and of single_word added tokens",
          (s) => pieces(whitespace, "a" + s + "a") === 1],
  kRegexLetter: ["Oniguruma's \\p{L} (Split and Replace regexes, ByteLevel)", onigLetter],
  kRegexNumber: ["Oniguruma's \\p{N} (Split and Replace regexes, ByteLevel)", onigNumber],
  kRegexWord: ["Oniguruma's \\w (Split and Replace regexes)", onigWord],
};
const members = Object.fromEntries(Object.keys(classes).map((name) => [name, []]));
const lowered = [];  // [code point, lowercase string]
const spaces = [];
for (let c = 0; c <= 0x10ffff; ++c) {
  if (c >= 0xd800 && c < 0xe000) continue;  // not representable in the bindings' strings
  const s = String.fromCodePoint(c);
  for (const [name, [, predicate]] of Object.entries(classes)) if (predicate(s)) members[name].push(c);
  if (onigSpace(s)) spaces.push(c);
  const lower = lowercase.normalizeString(s);
  if (lower !== s) lowered.push([c, lower]);
}
if (JSON.stringify(spaces) !== JSON.stringify(members.kWhiteSpace)) {
  throw new Error("Oniguruma's \\s differs from char::is_whitespace: give it its own table");
}

const hex = (c) => "0x" + c.toString(16).toUpperCase();
const ranges = (list) => {
  const out = [];
  for (const c of list) {
    if (out.length && out[out.length - 1][1] === c - 1) out[out.length - 1][1] = c;
    else out.push([c, c]);
  }
  return out;
};
const wrap = (items) => {
  const lines = [];
  let line = " ";
  for (const item of items) {
    if (line.length + item.length + 2 > 100) { lines.push(line); line = " "; }
    line += " " + item + ",";
  }
  if (line.trim()) lines.push(line);
  return lines.join("\n");
};

// A comment wrapped at 100 columns.
const comment = (text) => {
  const lines = [];
  let line = "//";
  for (const word of text.split(" ")) {
    if (line.length + word.length + 1 > 100) { lines.push(line); line = "//"; }
    line += " " + word;
  }
  lines.push(line);
  return lines.join("\n");
};

const out = [];
out.push(`// Generated by tests/tokenize/rust_char_tables.mjs from npm tokenizers ${version} (Hugging Face's
// Rust library); do not edit. Included by unicode_class.cc only.
// Each table lists the code points (ranges, inclusive) that the library treats as the class says.
`);
for (const [name, [text]] of Object.entries(classes)) {
  const list = ranges(members[name]);
  out.push(comment(`${text}: ${members[name].length} code points.`));
  out.push(`constexpr CodePointRange ${name}Ranges[] = {\n` +
           wrap(list.map(([a, b]) => `{${hex(a)}, ${hex(b)}}`)) + "\n};\n");
}
// char::to_lowercase as runs {first, last, stride, delta}: every stride-th code point from first
// to last lowercases to itself + delta. The one multi-code-point mapping (U+0130) is kept apart.
const runs = [];
const special = lowered.filter(([, lower]) => [...lower].length !== 1);
if (special.length !== 1 || special[0][0] !== 0x130 || special[0][1] !== "i\u0307") {
  throw new Error("unexpected multi-code-point lowercase mappings: " + JSON.stringify(special));
}
for (const [c, lower] of lowered) {
  if (c === 0x130) continue;
  const delta = lower.codePointAt(0) - c;
  const last = runs[runs.length - 1];
  if (last && last.delta === delta &&
      ((last.last === last.first && c - last.last <= 2) || c - last.last === last.stride)) {
    if (last.last === last.first) last.stride = c - last.last;
    last.last = c;
  } else {
    runs.push({ first: c, last: c, stride: 1, delta });
  }
}
out.push(comment(`char::to_lowercase (Lowercase, BertNormalizer), besides U+0130 -> "i\\u0307": ` +
                 `${lowered.length} code points.`));
out.push("constexpr LowercaseRun kLowercaseRuns[] = {\n" +
         wrap(runs.map((r) => `{${hex(r.first)}, ${hex(r.last)}, ${r.stride}, ${r.delta}}`)) + "\n};");
process.stdout.write(out.join("\n") + "\n");
