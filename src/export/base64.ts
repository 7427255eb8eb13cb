/**
 * Base64 of raw bytes (a weight's float32/float64 values as emitted predictors embed them), without Node's Buffer:
 * the export core also runs in the web extension's worker. Same output as Buffer.from(bytes).toString('base64').
 */
export function base64Of(view: ArrayBufferView): string {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let out = '';
  // btoa takes a "binary string"; encode it in slices (String.fromCharCode(...) has an argument limit) whose
  // length is a multiple of 3, so that no slice but the last one pads.
  const SLICE = 3 * 8192;
  for (let i = 0; i < bytes.length; i += SLICE) out += btoa(String.fromCharCode(...bytes.subarray(i, i + SLICE)));
  return out;
}
