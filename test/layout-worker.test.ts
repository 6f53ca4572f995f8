/**
 * A real worker thread attaches to the DISTRIBUTORS table and the id index from TableShare
 * messages, reads what main wrote, writes back, and survives a growth handover. Main checks
 * the worker's writes through raw DataViews at the layout's offsets. Threads are stepped
 * with Atomics (protocol in fixtures/layout-worker-protocol.ts), never with sleeps.
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import {
  DISTRIBUTORS,
  FLAG_FIRST_ORDER_DONE,
  IdIndex,
  createTable,
  growTable,
  idIndexCapacityFor,
  shareTable,
} from '../native-layout/index.js';
import type { HandoverMessage, WorkerData } from './fixtures/layout-worker-protocol.js';
import {
  ACK,
  COMMAND,
  CONTROL_LENGTH,
  STEP_CHECK_AND_WRITE,
  STEP_HANDOVER,
  STEP_STOP,
  STEP_TIMEOUT_MS,
} from './fixtures/layout-worker-protocol.js';

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<string> };

// Node 20 has Atomics.waitAsync; the project's lib (ES2022) does not declare it yet.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Tells the worker to run `step`, then waits (without blocking the loop) for its ack. */
async function runStep(control: Int32Array, step: number, failed: Promise<never>) {
  Atomics.store(control, COMMAND, step);
  Atomics.notify(control, COMMAND);
  const wait = waitAsync(control, ACK, step - 1, STEP_TIMEOUT_MS);
  const outcome = wait.async ? await Promise.race([wait.value, failed]) : wait.value;
  assert.notEqual(outcome, 'timed-out', `worker did not finish step ${step}`);
  assert.equal(Atomics.load(control, ACK), step);
}

function seedDistributors() {
  const table = createTable(DISTRIBUTORS, 4);
  const index = IdIndex.create(idIndexCapacityFor(4), table);
  [17, 42, 9].forEach((id, slot) => {
    table.views.externalId[slot] = id;
    index.set(id, slot);
  });
  table.views.sponsor[1] = 0;
  table.views.gv[1] = 12345;
  return { table, index };
}

type Distributors = ReturnType<typeof seedDistributors>['table'];

/** Steps 1 and 2; main checks the worker's writes through raw DataViews. */
async function driveWorker(
  table: Distributors,
  index: IdIndex,
  control: Int32Array,
  port: MessagePort,
  failed: Promise<never>,
): Promise<void> {
  await runStep(control, STEP_CHECK_AND_WRITE, failed);
  const raw = new DataView(table.buffer);
  const { balance, legVolumeL, flags } = table.layout.column;
  assert.equal(raw.getFloat64(balance.byteOffset + 1 * 8, true), 777);
  const legData = new DataView(table.buffer, legVolumeL.byteOffset + 8, 8);
  assert.equal(legData.getFloat64(0, true), 2 ** 53 - 1);
  assert.equal(raw.getUint8(flags.byteOffset + 1), FLAG_FIRST_ORDER_DONE);

  // Handover at a batch boundary: the worker is idle (it acked), so grow now.
  const grown = growTable(table, 16);
  const grownIndex = index.grow(grown);
  grown.views.externalId[3] = 99;
  grownIndex.set(99, 3);
  assert.equal(index.get(99), -1, 'the old pair is not written after the handover');
  const message: HandoverMessage = {
    distributors: shareTable(grown),
    idIndex: grownIndex.share(),
  };
  port.postMessage(message);
  await runStep(control, STEP_HANDOVER, failed);
  const gv = grown.layout.column.gv;
  assert.equal(new DataView(grown.buffer).getFloat64(gv.byteOffset + 3 * 8, true), 5);
  assert.equal(table.views.gv[3], 0, 'the old buffer saw no write after the handover');
}

describe('layout shared with a worker thread', () => {
  it('attaches, writes, and hands over to a grown buffer', async () => {
    const { table, index } = seedDistributors();
    const control = new Int32Array(
      new SharedArrayBuffer(CONTROL_LENGTH * Int32Array.BYTES_PER_ELEMENT),
    );
    const { port1, port2 } = new MessageChannel();
    const data: WorkerData = {
      control: control.buffer as SharedArrayBuffer,
      distributors: shareTable(table),
      idIndex: index.share(),
      port: port2,
    };
    const worker = new Worker(new URL('./fixtures/layout-worker.js', import.meta.url), {
      workerData: data,
      transferList: [port2],
    });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const failed = once(worker, 'error').then(([error]) => Promise.reject(error as Error));
    failed.catch(() => {}); // Observed through Promise.race in runStep.
    try {
      await driveWorker(table, index, control, port1, failed);
      await runStep(control, STEP_STOP, failed);
      assert.equal(await exited, 0);
    } finally {
      port1.close();
      // A no-op after a clean exit; after a failed step, do not leave the worker waiting.
      await worker.terminate();
    }
  });
});
