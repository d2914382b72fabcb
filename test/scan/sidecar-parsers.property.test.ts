import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseChapterTable, parseSpeakersTsv, parseSpeakersTxt, MAX_TRANSCRIPT_BYTES } from '../../src/scan/libritts.ts';

/** The sidecar parsers meet whatever bytes a dataset holds: they never throw and keep their rules. */

const text = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc
    .array(fc.oneof(fc.constantFrom('\t', '|', '\n', '\r\n', '\r', ';', ' ', '14', 'F', 'dev-clean', 'é', '\u0000', '\uFFFD'), fc.string({ maxLength: 8 })), { maxLength: 120 })
    .map((a) => a.join('')),
);

describe('sidecar parsers on hostile text (property-based)', () => {
  it('speakers.tsv: never throws; ids are numbers, other fields single-line (3,000 cases)', () => {
    fc.assert(
      fc.property(text, (t) => {
        for (const [id, info] of parseSpeakersTsv(t)) {
          expect(id).toMatch(/^\d+$/);
          expect(info.speaker_id).toBe(id);
          for (const v of [info.name, info.gender, info.subset]) if (v !== null) expect(v).not.toMatch(/[\r\n\t]/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('SPEAKERS.txt: never throws; ids are numbers, comments never become speakers (3,000 cases)', () => {
    fc.assert(
      fc.property(text, (t) => {
        const m = parseSpeakersTxt(t);
        for (const [id, info] of m) {
          expect(id).toMatch(/^\d+$/);
          for (const v of [info.name, info.gender, info.subset]) if (v !== null) expect(v).not.toMatch(/[\r\n]/);
        }
        const commented = t
          .split(/\r\n?|\n/)
          .map((l) => `;${l}`)
          .join('\n');
        expect(parseSpeakersTxt(commented).size).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('.trans.tsv: never throws; texts are single-line and within the transcript cap (3,000 cases)', () => {
    fc.assert(
      fc.property(text, fc.nat(3), (t, bigField) => {
        const input = bigField === 0 ? `${t}\n1_2_3_4\t${'x'.repeat(MAX_TRANSCRIPT_BYTES + 1)}\tok\n` : t;
        const table = parseChapterTable(input);
        for (const [id, tr] of table) {
          expect(id).not.toMatch(/[\r\n\t]/);
          for (const v of [tr.text_original, tr.text_normalized]) {
            if (v === null) continue;
            expect(v).not.toMatch(/[\r\n\t]/);
            expect(v.length).toBeLessThanOrEqual(MAX_TRANSCRIPT_BYTES);
          }
        }
        if (bigField === 0) expect(table.get('1_2_3_4')).toEqual({ text_original: null, text_normalized: 'ok' });
      }),
      { numRuns: 3000 },
    );
  });
});
