/**
 * The PyTorch predictor uses torch's own nn.LSTM / nn.GRU / nn.RNN exactly where Keras's semantics are torch's
 * (tanh/sigmoid LSTM, GRU reset_after=True with tanh/sigmoid, SimpleRNN tanh/relu, no mask) and explicit cell code
 * elsewhere (GRU reset_after=False, hard_sigmoid, masks). That those predictors give Keras's numbers is
 * conformance.test.ts's job; this checks which path each Keras 3 reference model takes and the state_dict's keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { openModelFile } from '../../src/formats/open';
import { buildModel } from '../../src/model/graph';
import { exportPredictor } from '../../src/export/index';

const K3 = join(__dirname, '../../../shared/keras-reference/keras3');

async function torchExport(name: string): Promise<{ source: string; keys: string[] }> {
  const file = await openModelFile(join(K3, name, 'model.keras'));
  try {
    const r = await exportPredictor(await buildModel(file), 'pytorch');
    const source = String(r.files.find((f) => f.path === 'model_torch.py')!.content);
    const zip = unzipSync(r.files.find((f) => f.path === 'state_dict.pt')!.content as Uint8Array);
    const pkl = new TextDecoder('latin1').decode(zip['archive/data.pkl']);
    const keys = [...pkl.matchAll(/X....([A-Za-z0-9_.]+)ctorch\._utils/gs)].map((m) => m[1]);
    return { source, keys };
  } finally {
    file.close();
  }
}

const cases: [string, RegExp | null, string][] = [
  ['lstm_last', /nn\.LSTM\(3, 5, batch_first=True, bias=True\)/, 'weight_ih_l0'],
  ['gru_reset_after', /nn\.GRU\(/, 'bias_hh_l0'],
  ['simple_rnn', /nn\.RNN\(.*nonlinearity="tanh"/, 'weight_hh_l0'],
  ['gru_reset_before', null, 'w_gru'],
  ['lstm_hard_sigmoid_relu', null, 'w_lstm'],
  ['lstm_masking', null, 'w_lstm'],
];

for (const [name, native, key] of cases) {
  test(`pytorch export of keras3/${name}: ${native ? 'torch nn module' : 'explicit cell code'}`, { skip: !existsSync(join(K3, name)) && 'no ../shared/keras-reference' }, async () => {
    const { source, keys } = await torchExport(name);
    if (native) {
      assert.match(source, native);
      assert.doesNotMatch(source, /explicit cell code/);
    } else {
      assert.doesNotMatch(source, /nn\.(LSTM|GRU|RNN)\(/);
      assert.match(source, /# explicit cell code/);
    }
    assert.ok(keys.some((k) => k.includes(key)), `state_dict keys ${keys.join(', ')} include ${key}`);
  });
}
