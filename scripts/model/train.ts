// Contrastive training of a static token-embedding table: a sentence is the (frequency-weighted)
// mean of its token rows, minus a running mean of its language (the product subtracts each
// language's mean at inference), L2-normalised; loss = symmetric InfoNCE over in-batch negatives.
// Plain Float32Array loops, sparse row-wise updates, Adagrad.

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Corpus {
  /** token ids of all sentences, concatenated; sentence s = tok[off[s] .. off[s+1]) */
  tok: Int32Array;
  off: Int32Array;
  pairX: Int32Array; // sentence index of the xx side
  pairE: Int32Array; // sentence index of the English side (interned: equal English text = same index)
  pairLang: Uint8Array; // index into langs
  pairW: Float32Array; // sampling weight inside its language
  langs: string[]; // langs[enIndex] === 'en'
}

export interface TrainOptions {
  dim: number;
  vocabSize: number;
  tokenWeight: Float32Array; // fixed per-token weight (e.g. SIF), folded into the exported rows
  steps: number;
  batch: number;
  lr: number;
  temperature: number;
  tokenDropout: number;
  langAlpha: number; // language sampling: p(lang) ∝ (sum of pair weights)^alpha
  centerMomentum: number; // 0 disables in-training centering
  seed: number;
  log?: (step: number, loss: number) => void;
  evalEvery?: number;
  onEval?: (step: number, table: Float32Array) => void;
  init?: Float32Array;
}

export function train(c: Corpus, o: TrainOptions): Float32Array {
  const D = o.dim;
  const V = o.vocabSize;
  const rand = prng(o.seed);
  const gauss = () => {
    const u = rand() || 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const E = o.init ? Float32Array.from(o.init) : new Float32Array(V * D);
  if (!o.init) for (let i = 0; i < E.length; i++) E[i] = gauss() / Math.sqrt(D);
  E.fill(0, 0, D); // [PAD]
  const H = new Float32Array(V * D); // Adagrad accumulators
  const w = o.tokenWeight;
  const enLang = c.langs.indexOf('en');

  // sampling: cumulative distribution over pairs
  const nL = c.langs.length;
  const langTot = new Float64Array(nL);
  for (let p = 0; p < c.pairX.length; p++) langTot[c.pairLang[p]!]! += c.pairW[p]!;
  const langP = new Float64Array(nL);
  let z = 0;
  for (let l = 0; l < nL; l++) z += langTot[l]! > 0 ? Math.pow(langTot[l]!, o.langAlpha) : 0;
  for (let l = 0; l < nL; l++) langP[l] = langTot[l]! > 0 ? Math.pow(langTot[l]!, o.langAlpha) / z : 0;
  const cum = new Float64Array(c.pairX.length);
  let acc = 0;
  for (let p = 0; p < c.pairX.length; p++) {
    const l = c.pairLang[p]!;
    acc += (c.pairW[p]! / langTot[l]!) * langP[l]!;
    cum[p] = acc;
  }
  const sample = () => {
    const r = rand() * acc;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const B = o.batch;
  const mu = new Float32Array(nL * D); // running language means (uncentred pooled vectors)
  const muInit = new Uint8Array(nL);
  const S = new Float32Array(2 * B * D); // pooled (then centred) vectors: x rows 0..B-1, e rows B..2B-1
  const U = new Float32Array(2 * B * D); // normalised
  const norms = new Float32Array(2 * B);
  const dU = new Float32Array(2 * B * D);
  const sim = new Float32Array(B * B);
  const G = new Float32Array(B * B);
  const slot = new Int32Array(V).fill(-1);
  let touched: number[] = [];
  let grad = new Float32Array(64 * 1024 * D > 0 ? 4096 * D : 0);
  const batchPairs = new Int32Array(B);
  const keptTok: Int32Array[] = new Array(2 * B);
  const batchLang = new Int32Array(2 * B);
  const seenE = new Set<number>();
  const seenX = new Set<number>();
  const invT = 1 / o.temperature;
  let emaLoss = 0;

  const pool = (sent: number, row: number) => {
    const a = c.off[sent]!;
    const b = c.off[sent + 1]!;
    const len = b - a;
    let kept: number[] = [];
    if (o.tokenDropout > 0 && len > 3) {
      for (let k = a; k < b; k++) if (rand() >= o.tokenDropout) kept.push(c.tok[k]!);
      if (kept.length === 0) kept.push(c.tok[a + Math.floor(rand() * len)]!);
    } else kept = Array.from(c.tok.subarray(a, b));
    const ids = Int32Array.from(kept);
    keptTok[row] = ids;
    const base = row * D;
    S.fill(0, base, base + D);
    for (let k = 0; k < ids.length; k++) {
      const t = ids[k]!;
      const wt = w[t]!;
      const eo = t * D;
      for (let j = 0; j < D; j++) S[base + j]! += wt * E[eo + j]!;
    }
    const inv = ids.length ? 1 / ids.length : 0;
    for (let j = 0; j < D; j++) S[base + j]! *= inv;
  };

  for (let step = 0; step < o.steps; step++) {
    // 1. batch without repeated English (or xx) sentences (they would be false negatives)
    seenE.clear();
    seenX.clear();
    let nb = 0;
    let guard = 0;
    while (nb < B && guard++ < B * 20) {
      const p = sample();
      const e = c.pairE[p]!;
      const x = c.pairX[p]!;
      if (seenE.has(e) || seenX.has(x)) continue;
      seenE.add(e);
      seenX.add(x);
      batchPairs[nb++] = p;
    }
    // 2. forward
    for (let b = 0; b < nb; b++) {
      const p = batchPairs[b]!;
      pool(c.pairX[p]!, b);
      pool(c.pairE[p]!, B + b);
      batchLang[b] = c.pairLang[p]!;
      batchLang[B + b] = enLang;
    }
    // running language means, then centring
    if (o.centerMomentum > 0) {
      const sums = new Map<number, { v: Float64Array; n: number }>();
      for (const half of [0, B])
        for (let b = 0; b < nb; b++) {
          const r = half + b;
          const l = batchLang[r]!;
          let s = sums.get(l);
          if (!s) sums.set(l, (s = { v: new Float64Array(D), n: 0 }));
          for (let j = 0; j < D; j++) s.v[j]! += S[r * D + j]!;
          s.n++;
        }
      for (const [l, s] of sums) {
        const m = muInit[l] ? Math.pow(o.centerMomentum, s.n / 32) : 0;
        muInit[l] = 1;
        for (let j = 0; j < D; j++) mu[l * D + j] = m * mu[l * D + j]! + (1 - m) * (s.v[j]! / s.n);
      }
      for (const half of [0, B])
        for (let b = 0; b < nb; b++) {
          const r = half + b;
          const l = batchLang[r]!;
          for (let j = 0; j < D; j++) S[r * D + j]! -= mu[l * D + j]!;
        }
    }
    for (const half of [0, B])
      for (let b = 0; b < nb; b++) {
        const r = (half + b) * D;
        let n = 0;
        for (let j = 0; j < D; j++) n += S[r + j]! * S[r + j]!;
        n = Math.sqrt(n) || 1e-9;
        norms[half + b] = n;
        for (let j = 0; j < D; j++) U[r + j] = S[r + j]! / n;
      }
    // 3. similarities and symmetric InfoNCE gradient
    for (let i = 0; i < nb; i++) {
      const xi = i * D;
      for (let k = 0; k < nb; k++) {
        const ek = (B + k) * D;
        let s = 0;
        for (let j = 0; j < D; j++) s += U[xi + j]! * U[ek + j]!;
        sim[i * B + k] = s * invT;
      }
    }
    let loss = 0;
    G.fill(0);
    const scale = 1 / nb;
    for (let i = 0; i < nb; i++) {
      // row softmax (x_i -> all e)
      let mx = -Infinity;
      for (let k = 0; k < nb; k++) mx = Math.max(mx, sim[i * B + k]!);
      let zz = 0;
      for (let k = 0; k < nb; k++) zz += Math.exp(sim[i * B + k]! - mx);
      loss += -(sim[i * B + i]! - mx - Math.log(zz));
      for (let k = 0; k < nb; k++) G[i * B + k]! += (Math.exp(sim[i * B + k]! - mx) / zz - (k === i ? 1 : 0)) * scale;
    }
    for (let k = 0; k < nb; k++) {
      // column softmax (e_k -> all x)
      let mx = -Infinity;
      for (let i = 0; i < nb; i++) mx = Math.max(mx, sim[i * B + k]!);
      let zz = 0;
      for (let i = 0; i < nb; i++) zz += Math.exp(sim[i * B + k]! - mx);
      loss += -(sim[k * B + k]! - mx - Math.log(zz));
      for (let i = 0; i < nb; i++) G[i * B + k]! += (Math.exp(sim[i * B + k]! - mx) / zz - (k === i ? 1 : 0)) * scale;
    }
    loss /= 2 * nb;
    emaLoss = step === 0 ? loss : 0.98 * emaLoss + 0.02 * loss;
    // dU_x[i] = sum_k G[i,k] U_e[k] / T ; dU_e[k] = sum_i G[i,k] U_x[i] / T
    dU.fill(0);
    for (let i = 0; i < nb; i++) {
      const xi = i * D;
      for (let k = 0; k < nb; k++) {
        const g = G[i * B + k]! * invT;
        if (g > -1e-7 && g < 1e-7) continue;
        const ek = (B + k) * D;
        for (let j = 0; j < D; j++) {
          dU[xi + j]! += g * U[ek + j]!;
          dU[ek + j]! += g * U[xi + j]!;
        }
      }
    }
    // 4. back through normalisation and pooling into sparse row gradients
    for (const t of touched) slot[t] = -1;
    touched = [];
    for (const half of [0, B])
      for (let b = 0; b < nb; b++) {
        const r = (half + b) * D;
        let ud = 0;
        for (let j = 0; j < D; j++) ud += U[r + j]! * dU[r + j]!;
        const n = norms[half + b]!;
        const ids = keptTok[half + b]!;
        const inv = 1 / (n * ids.length);
        for (let j = 0; j < D; j++) dU[r + j] = (dU[r + j]! - U[r + j]! * ud) * inv;
        for (let k = 0; k < ids.length; k++) {
          const t = ids[k]!;
          let sl = slot[t]!;
          if (sl < 0) {
            sl = touched.length;
            slot[t] = sl;
            touched.push(t);
            if ((sl + 1) * D > grad.length) {
              const g2 = new Float32Array(grad.length * 2);
              g2.set(grad);
              grad = g2;
            }
            grad.fill(0, sl * D, (sl + 1) * D);
          }
          const wt = w[t]!;
          const go = sl * D;
          for (let j = 0; j < D; j++) grad[go + j]! += wt * dU[r + j]!;
        }
      }
    // 5. Adagrad on the touched rows
    for (let s = 0; s < touched.length; s++) {
      const t = touched[s]!;
      if (t === 0) continue;
      const eo = t * D;
      const go = s * D;
      for (let j = 0; j < D; j++) {
        const g = grad[go + j]!;
        const h = H[eo + j]! + g * g;
        H[eo + j] = h;
        E[eo + j]! -= (o.lr * g) / (Math.sqrt(h) + 1e-8);
      }
    }
    o.log?.(step, emaLoss);
    if (o.evalEvery && o.onEval && (step + 1) % o.evalEvery === 0 && step + 1 < o.steps) o.onEval(step + 1, E);
  }
  return E;
}
