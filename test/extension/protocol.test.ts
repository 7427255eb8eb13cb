import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostChannel, HostError, WebviewChannel, oneLine, type Envelope, type HostEvent, type HostReply, type WebviewEvent, type WebviewRequest } from '../../extension/protocol';

/** Wire a webview channel to a host channel through queues, like postMessage does (asynchronously). */
function pair(answer: (r: WebviewRequest) => Promise<HostReply>) {
  const events: HostEvent[] = [];
  const readies: WebviewEvent[] = [];
  let host!: HostChannel;
  const web = new WebviewChannel(
    (m) => void Promise.resolve().then(() => host.receive(structuredClone(m) as Envelope<WebviewRequest | WebviewEvent>)),
    (e) => events.push(e),
  );
  host = new HostChannel(
    (m) => void Promise.resolve().then(() => web.receive(structuredClone(m) as Envelope<HostReply | HostEvent>)),
    answer,
    (e) => readies.push(e),
  );
  return { web, host, events, readies };
}

test('each request gets its own reply, matched by id even when replies arrive out of order', async () => {
  const { web } = pair(async (r) => {
    if (r.type === 'describeCell') {
      await new Promise((res) => setTimeout(res, r.row === 0 ? 30 : 1)); // first request answers last
      return { type: 'cellText', text: `cell ${r.row},${r.col}` };
    }
    return { type: 'error', message: 'unexpected' };
  });
  const a = web.request({ type: 'describeCell', layer: 'l', weight: 'w', row: 0, col: 1 });
  const b = web.request({ type: 'describeCell', layer: 'l', weight: 'w', row: 5, col: 2 });
  assert.equal(web.waiting, 2);
  assert.deepEqual(await Promise.all([a, b]), [
    { type: 'cellText', text: 'cell 0,1' },
    { type: 'cellText', text: 'cell 5,2' },
  ]);
  assert.equal(web.waiting, 0);
});

test('a thrown host error becomes a one-line error reply and rejects the request with HostError', async () => {
  const { web } = pair(async () => {
    throw new Error('model.h5: no weight named x\n    at stack frame that must not reach the user');
  });
  await assert.rejects(web.request({ type: 'getSummary' }), (e: unknown) => {
    assert.ok(e instanceof HostError);
    assert.equal((e as Error).message, 'model.h5: no weight named x');
    return true;
  });
});

test('events flow both ways without replies', async () => {
  const { web, host, events, readies } = pair(async () => ({ type: 'done' }));
  web.notify({ type: 'ready' });
  host.event({ type: 'progress', message: 'Opening big.h5…' });
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(readies, [{ type: 'ready' }]);
  assert.deepEqual(events, [{ type: 'progress', message: 'Opening big.h5…' }]);
  assert.equal(web.waiting, 0);
});

test('the host ignores malformed messages instead of crashing', async () => {
  const posted: unknown[] = [];
  const host = new HostChannel((m) => posted.push(m), async () => ({ type: 'done' }));
  await host.receive(null as never);
  await host.receive({ id: 1 } as never);
  await host.receive({ id: 2, body: { nope: 1 } } as never);
  assert.deepEqual(posted, []);
});

test('oneLine keeps the first non-empty line and caps its length', () => {
  assert.equal(oneLine(new Error('\n  \nfirst\nsecond')), 'first');
  assert.equal(oneLine('plain'), 'plain');
  assert.equal(oneLine(new Error('x'.repeat(1000))).length, 400);
});
