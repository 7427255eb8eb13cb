import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenModels } from '../../extension/openModels';
import type { InspectReport } from '../../src/explain/inspect';

const report = (source: string) => ({ source, format: 'keras2-h5', kerasVersion: '2.2.4', weightsOnly: false, totalParams: 0, layers: [] }) as InspectReport;

test('hovers follow the model looked at last; closing it falls back to another open one', () => {
  const m = new OpenModels();
  const active = () => m.active; // a call: no narrowing across the steps
  assert.equal(active(), null);
  m.update({ path: '/a.h5', report: report('a') });
  assert.equal(active(), null, 'loaded but never focused');
  m.activate({ path: '/a.h5', report: report('a') });
  m.activate({ path: '/b.h5', report: report('b') });
  assert.equal(active()?.path, '/b.h5');
  m.close('/b.h5');
  assert.equal(active()?.path, '/a.h5');
  m.close('/a.h5');
  assert.equal(active(), null);
});
