import path from 'node:path';
import { testConfig, type Config } from '../../src/config.ts';
import type { WorkerFaults } from '../../src/scan/types.ts';
import { createService, type SingleService } from '../../src/service.ts';
import { waitForEnd } from '../../src/tasks/wait-for-end.ts';
import type { TaskSnapshot } from '../../src/domain/task.ts';
import { tempDir } from './libritts-tree.ts';

export const BASE = '/api/voice-library';

export interface TestService extends SingleService {
  config: Config;
  request(pathname: string, init?: RequestInit): Promise<Response>;
  post(pathname: string, body: unknown): Promise<Response>;
  /** POST a scan and return the task id (asserting the 202). */
  startScan(body: Record<string, unknown>): Promise<string>;
  waitDone(taskId: string): Promise<TaskSnapshot>;
}

/** The real service in-process with a real SQLite file in a temp dir; HTTP through `app.request`. */
export async function startTestService(overrides: Partial<Config> = {}, options: { faults?: WorkerFaults } = {}): Promise<TestService> {
  // CONTRACT_CHECK: every response is checked against the OpenAPI document (src/http/contract-check.ts).
  const config = testConfig({ DB_PATH: path.join(tempDir('vl-db-'), 'test.db'), SCAN_WORKERS: 2, LOG_LEVEL: 'silent', CONTRACT_CHECK: true, ...overrides });
  const service = await createService(config, undefined, options);
  // The contract check builds its OpenAPI document on the first response it sees (~200 ms, with
  // awaits): paid here, not by a test's first request, whose scan would otherwise run meanwhile
  // (a 2,000-file scan reached `processing` before its POST's 202 came back, under a loaded suite).
  if (config.CONTRACT_CHECK) await service.app.request('/healthz');
  const request = async (pathname: string, init?: RequestInit) => service.app.request(pathname, init);
  const post = (pathname: string, body: unknown) => request(pathname, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return {
    ...service,
    config,
    request,
    post,
    async startScan(body) {
      const res = await post(`${BASE}/scan-libritts`, body);
      if (res.status !== 202) throw new Error(`scan not accepted: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { task_id: string }).task_id;
    },
    async waitDone(taskId) {
      for (;;) {
        const s = await waitForEnd(service.reader, service.events, taskId, 60_000);
        if (s) return s;
      }
    },
  };
}
