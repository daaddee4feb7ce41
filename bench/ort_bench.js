// ONNX Runtime side of bench/compare_ort.sh: one session on the CPU execution provider, timed the
// way `switchyard bench --sync-only` times Switchyard.
//
//   node bench/ort_bench.js MODEL THREADS REQUESTS [NAME=D0,D1,...]...
//
// Prints one JSON line: create_ms (InferenceSession.create, the whole load), first_ms, the sync
// latency median/p90 over REQUESTS predictions, and rss_mb (this process after the predictions).
// Inputs are float32/int64 tensors of the declared shapes (symbolic dims: the given shape, else 1),
// filled with a deterministic ramp. ORT is found in bench/.ort (compare_ort.sh installs it there).
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, '.ort', 'node_modules', 'onnxruntime-node'));

function percentile(v, p) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

function makeInput(meta, given) {
  const dims = given || meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
  const n = dims.reduce((a, b) => a * b, 1);
  if (meta.type === 'int64') return new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 7)), dims);
  if (meta.type !== 'float32') throw new Error(`input ${meta.name}: type ${meta.type} is not generated here`);
  return new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => (i % 251) / 251), dims);
}

async function main() {
  const [model, threadsArg, requestsArg, ...shapeArgs] = process.argv.slice(2);
  if (!model || !threadsArg || !requestsArg) {
    console.error('usage: node bench/ort_bench.js MODEL THREADS REQUESTS [NAME=D0,D1,...]...');
    process.exit(2);
  }
  const given = {};
  for (const s of shapeArgs) {
    const [name, dims] = s.split('=');
    given[name] = dims.split(',').map(Number);
  }
  const options = { intraOpNumThreads: Number(threadsArg), interOpNumThreads: 1, executionMode: 'sequential',
                    graphOptimizationLevel: 'all', executionProviders: ['cpu'] };
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(model, options);
  const createMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const feeds = {};
  for (const meta of session.inputMetadata) feeds[meta.name] = makeInput(meta, given[meta.name]);
  const t1 = process.hrtime.bigint();
  await session.run(feeds);
  const firstMs = Number(process.hrtime.bigint() - t1) / 1e6;
  const lat = [];
  for (let i = 0; i < Number(requestsArg); ++i) {
    const a = process.hrtime.bigint();
    await session.run(feeds);
    lat.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  console.log(JSON.stringify({ create_ms: createMs, first_ms: firstMs, median_ms: percentile(lat, 0.5), p90_ms: percentile(lat, 0.9),
                               rss_mb: process.memoryUsage().rss / 2 ** 20 }));
}

main().catch((e) => {
  console.error(`ort_bench: ${e.message}`);
  process.exit(1);
});
