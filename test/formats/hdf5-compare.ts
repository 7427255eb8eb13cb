/**
 * compareTrees(name, a, b): walks two open HDF5 files side by side through the Hdf5File interface and asserts they
 * answer alike (b is the oracle: h5wasm, the HDF5 C library): keys in order, attribute names, string / string-list /
 * number attributes, dataset shapes, dtypes and float32 values bit for bit, and the paths HDF5 resolves specially.
 * Used by hdf5-backends.test.ts and hdf5-fallback.test.ts.
 */
import assert from 'node:assert/strict';
import { hasListAttr, stringListAttr, type H5Node, type Hdf5File } from '../../src/formats/hdf5';
import { describeForeignError } from '../../src/formats/foreign-errors';

/** Outcome of a call, for comparing two readers (a throw compares by message). */
function outcome<T>(f: () => T): T | { threw: string } {
  try {
    return f();
  } catch (e) {
    return { threw: e instanceof Error ? e.message : String(e) };
  }
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Walks both trees side by side; returns the number of datasets compared. */
export async function compareTrees(name: string, js: Hdf5File, h5: Hdf5File): Promise<number> {
  let datasets = 0;
  const visit = async (a: H5Node, b: H5Node): Promise<void> => {
    const path = h5.path(b);
    const where = `${name}:${path}`;
    assert.equal(js.path(a), path, `${where}: path`);
    assert.equal(js.isGroup(a), h5.isGroup(b), `${where}: isGroup`);
    assert.equal(js.isDataset(a), h5.isDataset(b), `${where}: isDataset`);
    const attrs = h5.attrNames(b);
    assert.deepEqual(js.attrNames(a), attrs, `${where}: attribute names`);
    for (const at of [...attrs, 'no_such_attribute']) {
      assert.deepEqual(outcome(() => js.stringAttr(a, at)), outcome(() => h5.stringAttr(b, at)), `${where}: stringAttr ${at}`);
      assert.equal(js.hasAttr(a, at), h5.hasAttr(b, at), `${where}: hasAttr ${at}`);
      assert.deepEqual(outcome(() => stringListAttr(js, a, at)), outcome(() => stringListAttr(h5, b, at)), `${where}: stringListAttr ${at}`);
      assert.deepEqual(outcome(() => js.numberAttr(a, at)), outcome(() => h5.numberAttr(b, at)), `${where}: numberAttr ${at}`);
      assert.equal(hasListAttr(js, a, at), hasListAttr(h5, b, at), `${where}: hasListAttr ${at}`);
    }
    for (const list of ['layer_names', 'weight_names']) {
      assert.deepEqual(outcome(() => stringListAttr(js, a, list)), outcome(() => stringListAttr(h5, b, list)), `${where}: chunked ${list}`);
    }
    if (h5.isDataset(b)) {
      datasets++;
      assert.deepEqual(js.shape(a), h5.shape(b), `${where}: shape`);
      assert.equal(js.dtype(a), h5.dtype(b), `${where}: dtype`);
      let want: Float32Array | { threw: string };
      try {
        want = await h5.readFloat32(b);
      } catch (e) {
        want = { threw: (e as Error).message };
      }
      let got: Float32Array | { threw: string };
      try {
        got = await js.readFloat32(a);
      } catch (e) {
        got = { threw: (e as Error).message };
      }
      if (want instanceof Float32Array && got instanceof Float32Array) {
        assert.equal(got.length, want.length, `${where}: length`);
        assert.deepEqual(bits(got), bits(want), `${where}: values bit for bit`);
      } else {
        assert.deepEqual(got, want, `${where}: read outcome`);
      }
    }
    if (h5.isGroup(b)) {
      const keys = h5.keys(b);
      assert.deepEqual(js.keys(a), keys, `${where}: keys`);
      // paths HDF5 resolves specially, and a missing name
      for (const odd of ['', '.', './', `${keys[0] ?? 'x'}/`, `/${keys[0] ?? 'x'}`, 'no_such_child', `.//${keys[0] ?? 'x'}`]) {
        const ca = outcome(() => js.child(a, odd));
        const cb = outcome(() => h5.child(b, odd));
        const seen = (c: H5Node | null | { threw: string }, r: Hdf5File) => (c === null ? null : 'threw' in c ? { threw: describeForeignError(c.threw) } : r.path(c as H5Node));
        assert.deepEqual(seen(ca, js), seen(cb, h5), `${where}: child '${odd}'`);
      }
      for (const k of keys) {
        const cb = h5.child(b, k);
        const ca = js.child(a, k);
        assert.equal(ca === null, cb === null, `${where}/${k}: found`);
        if (ca && cb) await visit(ca, cb);
      }
    }
  };
  await visit(js.root, h5.root);
  const pa = js.get('/');
  const pb = h5.get('/');
  assert.ok(pa && pb && js.path(pa) === h5.path(pb), `${name}: get('/')`);
  return datasets;
}

