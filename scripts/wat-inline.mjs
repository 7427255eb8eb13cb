// Inlining for the WebAssembly text kernels (used by scripts/build-wasm.mjs and test/kernels/wat-inline.test.ts).
//
// V8 (Node 20) does not inline WebAssembly calls, and the cell updates call small helpers (load4, expf4,
// activation4f32, ...) several times per four lanes: those calls cost as much as the arithmetic. A function written
// with the line `;; @inline` just before its `(func $name` is copied into every caller instead:
// `(call $f a b)` becomes `(block $inl (result ...) (local.set $p_f a) (local.set $q_f b) (local.set $l_f 0)... body)`
// with its params and locals renamed apart and added to the caller, its labels renamed and `return` turned into
// `br $inl`. The arguments are evaluated in the same order and the same instructions run in the same order, so
// every result is bit for bit what the call computed (test/kernels/workspace.test.ts compares). The inlined
// functions themselves are left out of the binary.
/**
 * The .wat text with every function marked `;; @inline` copied into its callers (and left out); returns
 * [text, number of calls inlined]. Text without a marked function is returned as it is.
 */
export function inlineMarked(source) {
  const marked = new Set();
  for (const m of source.matchAll(/;;\s*@inline\b[^\n]*\n\s*\(func\s+(\$[^\s()]+)/g)) marked.add(m[1]);
  if (marked.size === 0) return [source, 0];
  const module = parse(stripComments(source))[0];
  const funcs = new Map();
  for (const node of module) if (Array.isArray(node) && node[0] === 'func' && marked.has(node[1])) funcs.set(node[1], describe(node));
  let count = 0;
  let serial = 0;
  /** the locals that inlining adds to the function being expanded */
  let added = [];
  const expand = (node) => {
    if (!Array.isArray(node)) return node;
    const mapped = node.map(expand);
    if (mapped[0] !== 'call' || !funcs.has(mapped[1])) return mapped;
    count++;
    return instantiate(funcs.get(mapped[1]), mapped.slice(2), ++serial, added);
  };
  // marked functions first, callees before callers, so that a copied body holds no marked call
  const resolving = new Set();
  const resolve = (name) => {
    const d = funcs.get(name);
    if (d.resolved) return;
    if (resolving.has(name)) throw new Error(`@inline ${name} is recursive`);
    resolving.add(name);
    const walk = (n) => {
      if (!Array.isArray(n)) return;
      if (n[0] === 'call' && funcs.has(n[1])) resolve(n[1]);
      n.forEach(walk);
    };
    d.body.forEach(walk);
    added = [];
    d.body = d.body.map(expand);
    d.locals.push(...added);
    d.resolved = true;
    resolving.delete(name);
  };
  for (const name of funcs.keys()) resolve(name);
  const out = ['module'];
  for (const node of module.slice(1)) {
    if (!Array.isArray(node) || node[0] !== 'func') {
      out.push(node);
      continue;
    }
    if (funcs.has(node[1])) continue; // copied into every caller
    const head = [];
    let i = 0;
    for (; i < node.length; i++) {
      const x = node[i];
      if (i < 2 || (Array.isArray(x) && ['export', 'param', 'result', 'local', 'type'].includes(x[0]))) head.push(x);
      else break;
    }
    added = [];
    const body = node.slice(i).map(expand);
    out.push([...head, ...added.map(([n, t]) => ['local', n, t]), ...body]);
  }
  return [serialize(out), count];
}

function describe(f) {
  const params = [], locals = [], results = [];
  const body = [];
  for (let i = 2; i < f.length; i++) {
    const x = f[i];
    if (Array.isArray(x) && x[0] === 'param') { if (!x[1].startsWith('$')) throw new Error(`inline ${f[1]}: unnamed param`); params.push([x[1], x[2]]); }
    else if (Array.isArray(x) && x[0] === 'local') { if (!x[1].startsWith('$')) throw new Error(`inline ${f[1]}: unnamed local`); locals.push([x[1], x[2]]); }
    else if (Array.isArray(x) && x[0] === 'result') results.push(...x.slice(1));
    else body.push(x);
  }
  return { name: f[1], params, locals, results, body, resolved: false };
}

const ZERO = { i32: ['i32.const', '0'], i64: ['i64.const', '0'], f32: ['f32.const', '0'], f64: ['f64.const', '0'], v128: ['v128.const', 'i64x2', '0', '0'] };

function instantiate(d, args, n, callerLocals) {
  const suffix = `__${d.name.slice(1)}${n}`;
  const rename = new Map();
  for (const [p] of [...d.params, ...d.locals]) rename.set(p, p + suffix);
  const label = `$inl${suffix}`;
  const labels = new Map();
  const sub = (node) => {
    if (!Array.isArray(node)) return node;
    const h = node[0];
    if ((h === 'local.get' || h === 'local.set' || h === 'local.tee') && rename.has(node[1])) return [h, rename.get(node[1]), ...node.slice(2).map(sub)];
    if ((h === 'block' || h === 'loop' || h === 'if') && typeof node[1] === 'string' && node[1].startsWith('$')) {
      const fresh = node[1] + suffix;
      const saved = labels.get(node[1]);
      labels.set(node[1], fresh);
      const r = [h, fresh, ...node.slice(2).map(sub)];
      if (saved === undefined) labels.delete(node[1]); else labels.set(node[1], saved);
      return r;
    }
    if (h === 'br' || h === 'br_if') return [h, labels.get(node[1]) ?? node[1], ...node.slice(2).map(sub)];
    if (h === 'br_table') { const r = [h]; let i = 1; for (; i < node.length && typeof node[i] === 'string'; i++) r.push(labels.get(node[i]) ?? node[i]); return [...r, ...node.slice(i).map(sub)]; }
    if (h === 'return') return ['br', label, ...node.slice(1).map(sub)];
    return node.map(sub);
  };
  if (args.length !== d.params.length) throw new Error(`call ${d.name}: ${args.length} arguments for ${d.params.length} params`);
  for (const [p, t] of [...d.params, ...d.locals]) callerLocals.push([p + suffix, t]);
  const block = ['block', label];
  if (d.results.length) block.push(['result', ...d.results]);
  d.params.forEach(([p], i) => block.push(['local.set', p + suffix, args[i]]));
  for (const [l, t] of d.locals) block.push(['local.set', l + suffix, ZERO[t]]);
  block.push(...d.body.map(sub));
  return block;
}

function stripComments(text) {
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text.startsWith(';;', i)) { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (text.startsWith('(;', i)) { const e = text.indexOf(';)', i); i = e + 2; continue; }
    if (text[i] === '"') { const s = i; i++; while (text[i] !== '"') { if (text[i] === '\\') i++; i++; } i++; out += text.slice(s, i); continue; }
    out += text[i++];
  }
  return out;
}

function parse(text) {
  const stack = [[]];
  const re = /\(|\)|"(?:[^"\\]|\\.)*"|[^\s()]+/g;
  for (const m of text.matchAll(re)) {
    const t = m[0];
    if (t === '(') stack.push([]);
    else if (t === ')') { const done = stack.pop(); stack[stack.length - 1].push(done); }
    else stack[stack.length - 1].push(t);
  }
  if (stack.length !== 1) throw new Error('unbalanced');
  return stack[0];
}

function serialize(node, depth = 0) {
  if (!Array.isArray(node)) return node;
  const inner = node.map((x) => serialize(x, depth + 1)).join(' ');
  return depth < 2 ? `(${inner})\n` : `(${inner})`;
}

