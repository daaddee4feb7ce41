// Cross-check of the reference interpreter against ONNX Runtime: runs every case of an exported ops
// sweep (switchyard conformance ops --export DIR) on ORT and holds ORT's outputs to the reference's
// (output_N.pb) under the case's own tolerance (case.json), with the rule of compare_values
// (conformance/src/check.cpp): NaN matches NaN, infinities exactly, integers, bools and strings
// exactly, floats |ort - ref| <= atol + rtol * |ref|.
//
//   node ort_xcheck.js --ort MODULE_DIR --cases DIR [--json FILE] [--filter REGEX]
//
// Cases run in a worker process; if ORT takes the worker down, the case is counted as crashed and
// a new worker carries on with the next case. Prints counts (agreed, disagreed, ORT cannot run,
// crashed), every disagreement with its worst difference, and ORT's refusals grouped by message.
'use strict';

const fs = require('fs');
const path = require('path');
const { fork } = require('child_process');

function parseArgs(argv) {
  const args = { json: null, filter: null };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i], value = argv[i + 1];
    if (key === '--ort') args.ort = value;
    else if (key === '--cases') args.cases = value;
    else if (key === '--json') args.json = value;
    else if (key === '--filter') args.filter = new RegExp(value);
    else if (key === '--worker') { args.worker = true; i -= 1; }
    else throw new Error(`unknown argument ${key}`);
  }
  if (!args.ort || !args.cases) throw new Error('usage: node ort_xcheck.js --ort MODULE_DIR --cases DIR [--json FILE] [--filter REGEX]');
  return args;
}

// ---- TensorProto (onnx.proto) decoding: the fields the exporter writes, and the typed ones. ----

function readVarint(buf, pos) {
  let result = 0n, shift = 0n;
  for (;;) {
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [result, pos];
    shift += 7n;
  }
}

function decodeTensorProto(buf) {
  const t = { dims: [], dataType: 0, name: '', raw: null, strings: [], floats: [], int32s: [], int64s: [], doubles: [], uint64s: [] };
  let pos = 0;
  const packedOrOne = (wire, reader) => {
    if (wire === 2) {
      const [len, p] = readVarint(buf, pos);
      const end = p + Number(len);
      pos = p;
      const out = [];
      while (pos < end) out.push(reader());
      return out;
    }
    return [reader()];
  };
  const varint = () => { const [v, p] = readVarint(buf, pos); pos = p; return v; };
  const f32 = () => { const v = buf.readFloatLE(pos); pos += 4; return v; };
  const f64 = () => { const v = buf.readDoubleLE(pos); pos += 8; return v; };
  const bytes = () => { const [len, p] = readVarint(buf, pos); pos = p + Number(len); return buf.subarray(p, pos); };
  while (pos < buf.length) {
    const [key, p] = readVarint(buf, pos);
    pos = p;
    const field = Number(key >> 3n), wire = Number(key & 7n);
    switch (field) {
      case 1: t.dims.push(...packedOrOne(wire, varint).map((v) => BigInt.asIntN(64, v))); break;
      case 2: t.dataType = Number(varint()); break;
      case 4: t.floats.push(...packedOrOne(wire, f32)); break;
      case 5: t.int32s.push(...packedOrOne(wire, varint).map((v) => Number(BigInt.asIntN(32, v)))); break;
      case 6: t.strings.push(bytes().toString('utf8')); break;
      case 7: t.int64s.push(...packedOrOne(wire, varint).map((v) => BigInt.asIntN(64, v))); break;
      case 8: t.name = bytes().toString('utf8'); break;
      case 9: t.raw = Buffer.from(bytes()); break;
      case 10: t.doubles.push(...packedOrOne(wire, f64)); break;
      case 11: t.uint64s.push(...packedOrOne(wire, varint)); break;
      default:  // skip: varint, 64-bit, length-delimited, 32-bit
        if (wire === 0) varint();
        else if (wire === 1) pos += 8;
        else if (wire === 2) bytes();
        else if (wire === 5) pos += 4;
        else throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return t;
}

// ONNX data type -> ORT's JS tensor type and typed array; bfloat16 and complex have none.
const TYPES = {
  1: ['float32', Float32Array], 2: ['uint8', Uint8Array], 3: ['int8', Int8Array], 4: ['uint16', Uint16Array],
  5: ['int16', Int16Array], 6: ['int32', Int32Array], 7: ['int64', BigInt64Array], 8: ['string', null],
  9: ['bool', Uint8Array], 10: ['float16', Uint16Array], 11: ['float64', Float64Array], 12: ['uint32', Uint32Array],
  13: ['uint64', BigUint64Array],
};
const TYPE_NAMES = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16' };

function protoToTensor(ort, t) {
  const entry = TYPES[t.dataType];
  if (!entry) throw new Error(`ORT's JavaScript API has no ${TYPE_NAMES[t.dataType] || t.dataType} tensors`);
  const [type, Array] = entry;
  const dims = t.dims.map(Number);
  if (type === 'string') return new ort.Tensor('string', t.strings, dims);
  let data;
  if (t.raw) {
    const copy = new Uint8Array(t.raw);  // aligned storage for the typed array
    data = new Array(copy.buffer, 0, copy.byteLength / Array.BYTES_PER_ELEMENT);
  } else {
    const values = [].concat(t.floats, t.int32s, t.int64s, t.doubles, t.uint64s);
    data = Array.from(values, (v) => (Array === BigInt64Array || Array === BigUint64Array ? BigInt(v) : Number(v)));
  }
  return new ort.Tensor(type, data, dims);
}

// ---- Comparison (the rule of compare_values) ----

function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function numbers(tensor) {
  if (tensor.type === 'float16') return Array.from(tensor.data, halfToFloat);
  return Array.from(tensor.data);
}

function fmt(v) {
  if (typeof v !== 'number' || Number.isInteger(v)) return String(v);  // integers, BigInts, strings: exactly
  return Number(v.toPrecision(7)).toString();
}

// Empty string: agreement; otherwise where and by how much.
function compareTensors(ref, got, rtol, atol) {
  if (ref.type !== got.type) return `element type: reference ${ref.type}, ORT ${got.type}`;
  if (ref.dims.join(',') !== got.dims.join(',')) return `shape: reference [${ref.dims}], ORT [${got.dims}]`;
  const e = ref.type === 'string' ? ref.data : numbers(ref), g = got.type === 'string' ? got.data : numbers(got);
  const floating = ['float32', 'float64', 'float16'].includes(ref.type);
  let count = 0, worst = -1, worstExcess = -1;
  for (let i = 0; i < e.length; ++i) {
    let ok, excess = Infinity;
    if (!floating) ok = e[i] === g[i];
    else if (Number.isNaN(e[i]) || Number.isNaN(g[i])) ok = Number.isNaN(e[i]) && Number.isNaN(g[i]);
    else if (!Number.isFinite(e[i]) || !Number.isFinite(g[i])) ok = e[i] === g[i];
    else {
      const tol = atol + rtol * Math.abs(e[i]);
      excess = Math.abs(g[i] - e[i]) - tol;
      ok = excess <= 0;
    }
    if (!ok) {
      ++count;
      if (worst < 0 || excess > worstExcess) { worst = i; worstExcess = excess; }
    }
  }
  if (count === 0) return '';
  const detail = floating && Number.isFinite(e[worst]) && Number.isFinite(g[worst])
    ? `, |diff| ${fmt(Math.abs(g[worst] - e[worst]))} > tol ${fmt(atol + rtol * Math.abs(e[worst]))}` : '';
  return `${count} of ${e.length} values differ; worst at [${worst}]: reference ${fmt(e[worst])}, ORT ${fmt(g[worst])}${detail}`;
}

// ---- One case ----

function dataFiles(dir, prefix) {
  return fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => parseInt(a.slice(prefix.length), 10) - parseInt(b.slice(prefix.length), 10))
    .map((f) => path.join(dir, f));
}

// The first line of ORT's message without the model path and node names, so that one cause
// counts once.
function messageKey(message) {
  return String(message).split('\n')[0].replace(/\/[^ ]*model\.onnx/g, 'model.onnx').replace(/node(_\d+)?\b/g, 'node').slice(0, 400);
}

async function runCase(ort, dir, meta) {
  const data = path.join(dir, 'test_data_set_0');
  let session;
  try {
    session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  } catch (err) {
    return { outcome: 'cannot_run', message: messageKey(err.message) };
  }
  const feeds = {};
  const inputs = dataFiles(data, 'input_');
  try {
    inputs.forEach((file, i) => {
      const proto = decodeTensorProto(fs.readFileSync(file));
      feeds[proto.name || session.inputNames[i]] = protoToTensor(ort, proto);
    });
  } catch (err) {
    return { outcome: 'cannot_run', message: messageKey(err.message) };
  }
  let results;
  try {
    results = await session.run(feeds);
  } catch (err) {
    return { outcome: 'cannot_run', message: messageKey(err.message) };
  }
  const outputs = dataFiles(data, 'output_');
  for (let i = 0; i < outputs.length; ++i) {
    const proto = decodeTensorProto(fs.readFileSync(outputs[i]));
    let expected;
    try {
      expected = protoToTensor(ort, proto);
    } catch (err) {
      return { outcome: 'cannot_run', message: messageKey(err.message) };
    }
    const got = results[session.outputNames[i]];
    const diff = compareTensors(expected, got, meta.rtol, meta.atol);
    if (diff) return { outcome: 'disagreed', detail: `output ${i} '${session.outputNames[i]}': ${diff}` };
  }
  return { outcome: 'agreed' };
}

// ---- Worker: runs the cases it is sent, one at a time ----

async function worker(args) {
  const ort = require(path.join(path.resolve(args.ort), 'onnxruntime-node'));
  process.on('message', async (job) => {
    if (job.done) process.exit(0);
    let result;
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(job.dir, 'case.json'), 'utf8'));
      result = await runCase(ort, job.dir, meta);
    } catch (err) {
      result = { outcome: 'cannot_run', message: messageKey(err.message) };
    }
    process.send({ index: job.index, result });
  });
  process.send({ ready: true });
}

// ---- Parent: hands out cases, replaces a worker that dies, summarises ----

function listCases(args) {
  const index = fs.readFileSync(path.join(args.cases, 'index.tsv'), 'utf8').trim().split('\n').slice(1);
  return index.map((line) => {
    const [folder, name, op, rtol, atol] = line.split('\t');
    return { dir: path.join(args.cases, folder), name, op, rtol: Number(rtol), atol: Number(atol) };
  }).filter((c) => !args.filter || args.filter.test(c.name));
}

function runAll(args, cases) {
  return new Promise((resolve) => {
    const results = new Array(cases.length);
    let next = 0, current = -1, child = null;
    const start = () => {
      child = fork(__filename, ['--ort', args.ort, '--cases', args.cases, '--worker'], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
      child.on('message', (msg) => {
        if (msg.index !== undefined) results[msg.index] = msg.result;
        if (next >= cases.length) { current = -1; child.send({ done: true }); return; }
        current = next++;
        child.send({ index: current, dir: cases[current].dir });
        if (current % 500 === 0) process.stderr.write(`  ${current} of ${cases.length}\n`);
      });
      child.on('exit', (code, signal) => {
        if (current >= 0 && results[current] === undefined) {
          results[current] = { outcome: 'crashed', message: `ORT's process ended (${signal || 'exit ' + code})` };
          start();
        } else {
          resolve(results);
        }
      });
    };
    start();
  });
}

function summarise(cases, results, args) {
  const counts = { agreed: 0, disagreed: 0, cannot_run: 0, crashed: 0 };
  const disagreements = [], refusals = new Map(), crashes = [];
  cases.forEach((c, i) => {
    const r = results[i];
    counts[r.outcome] += 1;
    if (r.outcome === 'disagreed') disagreements.push(`${c.name}: ${r.detail}`);
    if (r.outcome === 'cannot_run') {
      const key = r.message;
      if (!refusals.has(key)) refusals.set(key, []);
      refusals.get(key).push(c.name);
    }
    if (r.outcome === 'crashed') crashes.push(`${c.name}: ${r.message}`);
  });
  console.log(`ORT ${require(path.join(path.resolve(args.ort), 'onnxruntime-node', 'package.json')).version} against the reference: ${cases.length} cases`);
  console.log(`  agreed       ${counts.agreed}`);
  console.log(`  disagreed    ${counts.disagreed}`);
  console.log(`  cannot run   ${counts.cannot_run}`);
  console.log(`  crashed      ${counts.crashed}`);
  const byOp = new Map();
  cases.forEach((c, i) => {
    if (results[i].outcome !== 'disagreed') return;
    byOp.set(c.op, (byOp.get(c.op) || 0) + 1);
  });
  if (byOp.size) console.log(`\ndisagreements by operator: ${[...byOp].map(([op, n]) => `${op} ${n}`).join(', ')}`);
  if (disagreements.length) console.log('\ndisagreements:\n' + disagreements.map((d) => '  ' + d).join('\n'));
  if (crashes.length) console.log('\ncrashed:\n' + crashes.map((d) => '  ' + d).join('\n'));
  if (refusals.size) {
    console.log('\nORT cannot run (count, ORT\'s message, first case):');
    [...refusals].sort((a, b) => b[1].length - a[1].length)
      .forEach(([message, names]) => console.log(`  ${String(names.length).padStart(5)}  ${message}  [${names[0]}]`));
  }
  if (args.json) {
    const all = cases.map((c, i) => Object.assign({ name: c.name, op: c.op }, results[i]));
    fs.writeFileSync(args.json, JSON.stringify({ counts, cases: all }, null, 1));
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.worker) return worker(args);
  const cases = listCases(args);
  const results = await runAll(args, cases);
  summarise(cases, results, args);
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
