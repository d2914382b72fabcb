import { afterAll } from 'vitest';
import { removeTempDirs } from '../helpers/libritts-tree.ts';

// Runs after each test file's own hooks (they run in reverse order of registration, and this
// file registers first): servers and pools the file started are closed by then.
afterAll(removeTempDirs);
