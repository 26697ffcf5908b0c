// Window vectors as stored: int8 with a float32 scale in front, a quarter of the float32 size.
// Pure (no database), so the embedding threads quantise the windows they embed and the main
// thread, which decides and stores, only writes the bytes.

export interface Quantised {
  /** The bytes stored. */
  blob: Uint8Array;
  /** What reading them back gives: what every later comparison with the window sees. */
  vector: Float32Array;
}

export function toInt8Blob(v: Float32Array): Buffer {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
  const scale = max / 127;
  const out = Buffer.alloc(4 + v.length);
  out.writeFloatLE(scale, 0);
  const q = new Int8Array(out.buffer, out.byteOffset + 4, v.length);
  if (scale > 0) for (let i = 0; i < v.length; i++) q[i] = Math.round(v[i]! / scale);
  return out;
}

export function fromInt8Blob(b: Uint8Array): Float32Array {
  const scale = new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
  const q = new Int8Array(b.buffer, b.byteOffset + 4, b.byteLength - 4);
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i]! * scale;
  return out;
}

export function quantise(v: Float32Array): Quantised {
  const blob = toInt8Blob(v);
  return { blob, vector: fromInt8Blob(blob) };
}
