// A thread for test/store/write-gate.test.ts: takes write-gate.ts turns on a shared gate.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { threadTurn } from '../../src/store/sqlite/write-gate.ts';

const { gate, rounds, mode } = workerData as { gate: SharedArrayBuffer; rounds: number; mode: 'count' | 'die' | 'hammer' | 'hold' };
const g = new Int32Array(gate);
if (mode === 'count') {
  // A read, a pause, a write of slot 4: two threads doing this at once lose increments.
  for (let i = 0; i < rounds; i++)
    threadTurn(
      () => {
        const v = g[4]!;
        for (const t = performance.now(); performance.now() - t < 0.01;);
        g[4] = v + 1;
      },
      g,
      threadId,
    );
  parentPort!.postMessage('done');
} else if (mode === 'hammer') {
  // A scan thread recording batch after batch: turns of 0.2 ms back to back until slot 5 is set.
  // Slot 4 counts its turns; slot 6 those it began while a main-thread write waited (slot 3).
  parentPort!.postMessage('started');
  while (Atomics.load(g, 5) === 0)
    threadTurn(
      () => {
        if (Atomics.load(g, 3) > 0) Atomics.add(g, 6, 1);
        Atomics.add(g, 4, 1);
        for (const t = performance.now(); performance.now() - t < 0.2;);
      },
      g,
      threadId,
    );
  parentPort!.postMessage('done');
} else if (mode === 'hold') {
  // A long commit: the turn held for `rounds` ms.
  threadTurn(
    () => {
      parentPort!.postMessage('holding');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, rounds);
    },
    g,
    threadId,
  );
  parentPort!.postMessage('released');
} else {
  threadTurn(
    () => {
      parentPort!.postMessage('holding');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // never returns: terminate() ends it
    },
    g,
    threadId,
  );
}
