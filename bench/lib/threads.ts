import { Worker } from 'node:worker_threads';

/**
 * Runs `code` (CommonJS worker source that reads `workerData.files` and posts one message when
 * done) on `threads` threads, each on an equal share of `paths`; resolves with the seconds taken.
 */
export async function onShares(code: string, paths: string[], threads: number): Promise<number> {
  const share = Math.ceil(paths.length / threads);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: threads }, (_, i) => new Promise((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { files: paths.slice(i * share, (i + 1) * share) } });
      w.once('message', resolve);
      w.once('error', reject);
    })),
  );
  return (performance.now() - t0) / 1000;
}
