// Per-token log-probs of a text under an rlsr ONNX export, computed by transformers.js (onnxruntime-node) as its users
// load a model: AutoModelForCausalLM.from_pretrained(DIR, {dtype}) picks model.onnx, model_fp16.onnx,
// model_quantized.onnx or model_q4.onnx by dtype name. Prints {"dtype": {"ids": [...], "logprobs": [...]}, ...}.
// Run: NODE_PATH=/path/to/node_modules node scripts/transformers-js-logprobs.mjs EXPORT_DIR TEXT fp32,q8,...
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.NODE_PATH ?? process.cwd(), 'x.js'));
const { AutoModelForCausalLM, AutoTokenizer, env } = require('@huggingface/transformers');

const [dir, text, dtypes] = process.argv.slice(2);
env.allowRemoteModels = false;
env.localModelPath = path.dirname(path.resolve(dir));
const name = path.basename(path.resolve(dir));
const tokenizer = await AutoTokenizer.from_pretrained(name);
const out = {};
for (const dtype of dtypes.split(',')) {
  // an rlsr export keeps its .onnx files at the top of the directory (subfolder ''), --format both in onnx/
  const model = await AutoModelForCausalLM.from_pretrained(name, { dtype, subfolder: process.env.SUBFOLDER ?? '' });
  const enc = tokenizer(text, { add_special_tokens: false });
  const { logits } = await model(enc);
  const ids = Array.from(enc.input_ids.data, Number);
  const [, T, V] = logits.dims;
  const data = logits.data;
  const lps = [];
  for (let t = 0; t + 1 < T; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, data[t * V + v]);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(data[t * V + v] - max);
    lps.push(data[t * V + ids[t + 1]] - max - Math.log(z));
  }
  out[dtype] = { ids, logprobs: lps };
  await model.dispose();
}
console.log(JSON.stringify(out));
