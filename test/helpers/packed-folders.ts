import type { NativeIo } from '../../src/scan/native-io.ts';
import type { FolderFiles, WalkScope } from '../../src/scan/types.ts';
import { walkPacked } from '../../src/scan/walk.ts';

/** A tree's WAV files packed as a scan's walking thread sends them (walk.ts walkPacked), every message's items in order. */
export const packedFolders = (root: string, opts: { scope?: WalkScope; max?: number; message?: number; io?: NativeIo | null } = {}): FolderFiles[] =>
  [...walkPacked(root, opts.scope, opts)].flat();
