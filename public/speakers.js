// The speakers of a completed scan: a table whose ids lead to each speaker's page, and two charts.
import { apiJson } from './api.js';
import { $, fmt, h, td } from './dom.js';
import { barChart } from './charts.js';
import { setSuggestions } from './results.js';
import { speakerHref } from './url-state.js';

/** The histogram's last bin, open-ended (README: "the 40th bin holds everything longer"). */
const OPEN_BIN = 40;

/** Draws the speakers of `snapshot`'s task; resolves false when another task was shown meanwhile. */
export async function loadSpeakers(snapshot, isCurrent) {
  const { items } = await apiJson(`/scan-speakers/${encodeURIComponent(snapshot.task_id)}`);
  if (!isCurrent()) return false;
  $('#speakers-section').hidden = false;
  $('#speakers tbody').replaceChildren(
    ...items.map((s) => {
      const row = document.createElement('tr');
      const id = td('');
      id.append(Object.assign(h('a', '', s.speaker_id), { href: speakerHref(snapshot.task_id, s.speaker_id) }));
      row.append(
        id,
        td(s.name ?? '–'),
        td(s.gender ?? '–'),
        td(s.utterances, 'num'),
        td(fmt(s.duration_s / 60, 2), 'num'),
        td(fmt(s.median_snr_db), 'num'),
        td((s.subsets ?? []).join(', ')),
      );
      return row;
    }),
  );
  setSuggestions({ speakers: items.map((s) => s.speaker_id), subsets: Object.keys(snapshot.summary?.subsets ?? {}) });
  const hist = snapshot.summary?.duration_histogram ?? { bin_s: 1, counts: [] };
  barChart(
    $('#duration-chart'),
    hist.counts.map((n, i) => ({
      label: `${i * hist.bin_s}s`,
      value: n,
      // The server's 40th bin holds every longer clip too (summary.ts HIST_BINS).
      title: i + 1 >= OPEN_BIN ? `${i * hist.bin_s} s or longer: ${n} clips` : `${i * hist.bin_s}–${(i + 1) * hist.bin_s} s: ${n} clips`,
    })),
    { labelEvery: Math.max(1, Math.ceil(hist.counts.length / 20)), yLabel: 'clips', ariaLabel: 'Histogram of clip durations' },
  );
  const top = [...items].sort((a, b) => b.duration_s - a.duration_s).slice(0, 40);
  barChart(
    $('#minutes-chart'),
    top.map((s) => ({ label: s.speaker_id, value: s.duration_s / 60, title: `${s.speaker_id}${s.name ? ` (${s.name})` : ''}: ${(s.duration_s / 60).toFixed(1)} min` })),
    { labelEvery: Math.max(1, Math.ceil(top.length / 20)), yLabel: 'minutes', ariaLabel: 'Minutes of audio per speaker' },
  );
  return true;
}
