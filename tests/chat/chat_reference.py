#!/usr/bin/python3
"""Reference renderer for the chat template differential test (chat_template_differential_test).

Renders seeded conversations with Jinja2 configured as transformers' apply_chat_template configures
it (transformers/utils/chat_template_utils.py, _compile_jinja_template): an
ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the loopcontrols extension and
the `{% generation %}` tag, its own `tojson` filter (json.dumps, ensure_ascii=False, keys in their
order) and the `raise_exception` and `strftime_now` globals; the context is messages, tools=None,
documents=None, add_generation_prompt and the tokenizer's special tokens.

Usage: chat_reference.py TEMPLATE_DIR COUNT SEED [NAME...]
Writes JSON lines to stdout: first {"special_tokens": {...}}, then one line per rendering:
{"template", "messages", "add_generation_prompt", "ok", "text" | "error"}.
Exits 77 when jinja2 is missing (CTest's skip code).
"""

import json
import os
import random
import sys
from datetime import datetime

try:
    import jinja2
    from jinja2 import nodes
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:
    print("FT_PREREQUISITE_MISSING: python3-jinja2 is not installed", file=sys.stderr)
    sys.exit(77)

SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
}


class GenerationTag(Extension):
    # transformers' AssistantTracker: `{% generation %}...{% endgeneration %}` renders its body.
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


# Pieces of message text: what real chats hold and what could trip a renderer (Jinja-looking text,
# Python's whitespace classes for trim/strip, emoji, CJK, combining marks, quotes, backslashes).
PIECES = [
    "Hello", "How are you?", "Tell me a joke.", "The answer is 42.", "ok", "Sure!",
    "你好，世界", "日本語のテキスト", "한국어", "Ελληνικά", "Привет", "مرحبا",
    "👋", "👍🏽", "👨‍👩‍👧", "🙂🙃", "e\u0301", "n\u0303o", "a\u0308\u0301",
    "{{ x }}", "{%", "%}", "{% if true %}", "{#", "#}", "}}", "{{", "{{- bos_token -}}",
    "'single'", "\"double\"", "back\\slash", "\\n", "<|im_end|>", "</s>", "[INST]",
    "\n", "\n\n", "\t", " ", "  ", "\r\n", "\u3000", "\xa0", "\u2009", "\u200b", "\x0b", "\x1c",
    "line1\nline2", "  padded  ", "tab\tinside", "None", "True", "0", "-1.5",
]


def random_text(rng):
    roll = rng.random()
    if roll < 0.06:
        return ""
    if roll < 0.1:
        return rng.choice([" ", "\n", "  \n ", "\t", "\u3000"])
    parts = [rng.choice(PIECES) for _ in range(rng.randint(1, 6))]
    text = ""
    for part in parts:
        text += part + rng.choice(["", " ", "", "\n"])
    if rng.random() < 0.2:
        text = rng.choice([" ", "  ", "\n", "\t "]) + text
    if rng.random() < 0.2:
        text = text + rng.choice([" ", "  ", "\n", " \n"])
    return text


def random_conversation(rng):
    messages = []
    if rng.random() < 0.5:
        messages.append({"role": "system", "content": random_text(rng)})
    turns = rng.randint(1, 7)
    roles = ["user", "assistant"] * 4
    for i in range(turns):
        messages.append({"role": roles[i], "content": random_text(rng)})
    # About one conversation in eight breaks the usual shape, so that templates that check it
    # raise (both renderers must then fail alike).
    if rng.random() < 0.12:
        kind = rng.randint(0, 3)
        if kind == 0:
            messages.insert(rng.randint(0, len(messages)), {"role": "user", "content": "again"})
        elif kind == 1:
            messages.insert(0, {"role": "assistant", "content": random_text(rng)})
        elif kind == 2:
            messages.append({"role": "system", "content": random_text(rng)})
        else:
            messages.append({"role": "assistant", "content": random_text(rng)})
    return messages


def main():
    template_dir, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    names = sys.argv[4:] or sorted(f[:-len(".jinja")] for f in os.listdir(template_dir)
                                   if f.endswith(".jinja"))
    env = make_environment()
    out = sys.stdout
    out.write(json.dumps({"special_tokens": SPECIAL_TOKENS}, ensure_ascii=False) + "\n")
    for name in names:
        with open(os.path.join(template_dir, name + ".jinja"), encoding="utf-8", newline="") as f:
            template = env.from_string(f.read())
        rng = random.Random(f"{seed}:{name}")
        for _ in range(count):
            messages = random_conversation(rng)
            for add_generation_prompt in (False, True):
                line = {"template": name, "messages": messages,
                        "add_generation_prompt": add_generation_prompt}
                try:
                    line["text"] = template.render(
                        messages=messages, tools=None, documents=None,
                        add_generation_prompt=add_generation_prompt, **SPECIAL_TOKENS)
                    line["ok"] = True
                except Exception as e:  # noqa: BLE001 - every failure is compared, not handled
                    line["ok"] = False
                    line["error"] = f"{type(e).__name__}: {e}"
                out.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
