import { audiofolder } from './audiofolder.ts';
import { coqui } from './coqui.ts';
import { csv } from './csv.ts';
import { jsonl } from './jsonl.ts';
import { kaldi } from './kaldi.ts';
import { lhotse } from './lhotse.ts';
import { ljspeech } from './ljspeech.ts';
import { nemo } from './nemo.ts';
import type { ExportFormat } from './types.ts';

/**
 * Every download format, by its `format` value. Training manifests (`/scan-export`) hold the
 * rows that scanned well; the result downloads (`/scan-results?format=`) hold every row. Adding
 * a format is adding a module and a line here.
 */
export const TRAINING_FORMATS = { nemo, lhotse, kaldi, ljspeech, coqui, audiofolder } as const satisfies Record<string, ExportFormat>;
export const RESULT_DOWNLOADS = { jsonl, csv } as const satisfies Record<string, ExportFormat>;

export type TrainingFormatName = keyof typeof TRAINING_FORMATS;
export const TRAINING_FORMAT_NAMES = Object.keys(TRAINING_FORMATS) as [TrainingFormatName, ...TrainingFormatName[]];
