/**
 * The two charts of `pnpm bench`, Vega-Lite specs compiled and rendered to SVG by Vega on Node (no
 * browser, no canvas):
 *
 * - `throughput.svg`, the record: operations per second by plaintext size for every contender,
 *   encrypt and decrypt side by side, on log axes.
 * - `speedup.svg`, the one a reader takes in at a glance: per size, one labelled bar per peer
 *   saying how many times faster the Envelope (fast backend, cached key) is, and one saying how
 *   close it comes to the same job written by hand with node:crypto.
 * @module
 */
import vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { TARGET_SIZE } from './_fixtures.js';
import { formatRatio, formatSize } from './_format.js';
import type { CryptoRow } from './case-crypto.js';

// Advance widths of Helvetica (Adobe's AFM metrics, 1/1000 em) for the printable ASCII characters
// 32..126, in order. Vega on Node has no canvas to measure text and otherwise assumes 0.8 em per
// character, about half again the real width: the chart then carries wide blank margins, which
// shrink the rest when a page scales the SVG down to its column.
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
  556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
  500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
  556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
  278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
// Readers' sans-serif fonts are wider than Helvetica: DejaVu Sans, the Linux default, by up to
// about 15%. Bold by about 8% more. Overestimating costs a little margin; under, clipped text.
const SANS_MARGIN = 1.18;
const BOLD = 1.08;

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
}

/** A text's width in px, estimated from Helvetica's metrics (for Vega's `textMetrics.width`). */
function textWidth(item: TextItem, text: unknown): number {
  const s = text == null ? '' : String(text).trim();
  const size = item.fontSize == null ? 11 : Number(item.fontSize) || 0;
  let units = 0;
  for (let i = 0; i < s.length; i++) units += HELVETICA[s.charCodeAt(i) - 32] ?? 600;
  const weight = item.fontWeight;
  const bold = weight === 'bold' || weight === 'bolder' || Number(weight) >= 600;
  return (units / 1000) * size * SANS_MARGIN * (bold ? BOLD : 1);
}

/** Compiles a Vega-Lite spec and renders it to an SVG document, text widths estimated as above. */
async function render(spec: TopLevelSpec): Promise<string> {
  // Exported by Vega at run time (vega-scenegraph's `textMetrics`), not in its type declarations.
  const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } })
    .textMetrics;
  const previous = metrics.width;
  metrics.width = textWidth;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
    metrics.width = previous;
  }
}

/**
 * Renders the chart.
 * @param rows - The hot-path and peer rows.
 * @param subtitle - A line under the title (machine, date, mode).
 * @returns The SVG document.
 */
export async function throughputChart(rows: readonly CryptoRow[], subtitle: string): Promise<string> {
  const values = rows.map((r) => ({
    op: r.op,
    size: r.size,
    contender: r.label,
    kind: r.kind,
    opsPerSec: Math.round(r.opsPerSec),
  }));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: 'Field encryption throughput by size (format A base64 out and in; higher is better)',
      subtitle: [
        subtitle,
        'solid: @vault-envelope/core · dotted: raw AES-GCM calls · dashed: peer libraries',
      ],
    },
    data: { values },
    columns: 2,
    facet: { field: 'op', type: 'nominal', title: null, sort: ['encrypt', 'decrypt'] },
    spec: {
      width: 380,
      height: 300,
      layer: [
        {
          mark: { type: 'line', point: true, strokeWidth: 2 },
          encoding: {
            x: {
              field: 'size',
              type: 'quantitative',
              scale: { type: 'log', base: 2 },
              axis: {
                title: 'plaintext size (log scale)',
                values: [32, 256, 1024, 16384, 1048576],
                labelExpr:
                  "datum.value >= 1048576 ? datum.value / 1048576 + ' MiB' : datum.value >= 1024 ? datum.value / 1024 + ' KiB' : datum.value + ' B'",
              },
            },
            y: {
              field: 'opsPerSec',
              type: 'quantitative',
              scale: { type: 'log' },
              axis: { title: 'operations per second (log scale)', format: '~s', tickCount: 6 },
            },
            color: {
              field: 'contender',
              type: 'nominal',
              // labelLimit 0: never truncate. Without a canvas, Vega on Node truncates by an
              // estimated width of 0.8 em per character, wider than the drawn text: a limit of 320
              // cut 'Envelope, fast, via @vault-envelope/cache' (41 characters at 10 px: 328 px).
              legend: { title: null, orient: 'bottom', columns: 3, labelLimit: 0, symbolType: 'stroke' },
            },
            strokeDash: {
              field: 'kind',
              type: 'nominal',
              scale: {
                domain: ['ours', 'raw', 'peer'],
                range: [
                  [1, 0],
                  [2, 2],
                  [6, 3],
                ],
              },
              legend: null,
            },
            tooltip: [{ field: 'contender' }, { field: 'size' }, { field: 'opsPerSec', format: ',' }],
          },
        },
      ],
    },
    config: { font: 'sans-serif', view: { stroke: '#ddd' } },
  };
  return render(spec);
}

/** Two-line names for the speed-up chart, shorter than the table labels (same contenders). */
const SHORT_NAMES: Readonly<Record<string, readonly [string, string]>> = {
  'raw-node': ['raw node:crypto', 'the same job, hand-written'],
  'workos-http-stubbed': ['@workos-inc/node 11', 'HTTP stubbed (request layer + crypto)'],
  'workos-keys-stubbed': ['@workos-inc/node 11', 'key methods stubbed (crypto only)'],
  'workos-real': ['@workos-inc/node 11', 'real key call (local server)'],
  'aws-sdk-cached': ['AWS Encryption SDK v5', 'caching materials manager'],
};

const PEER = 'peer library: how many times faster Envelope is';
const RAW = 'hand-written node:crypto: Envelope’s speed relative to it (1× = as fast)';

/**
 * Renders the speed-up chart: one panel per size and direction, one bar per peer (and the raw
 * node:crypto baseline), each labelled with the Envelope's throughput over that contender's,
 * paired by round. Bars start at 1× on a log axis, so "N× faster" reads as length to the right
 * and "slower than hand-written code" as a bar to the left.
 * @param rows - The hot-path and peer rows (`oursOverThis` is the Envelope, fast backend with a
 *   pinned key, over the row's contender).
 * @param subtitle - A line under the title (machine, date, mode).
 * @returns The SVG document.
 */
export async function speedupChart(rows: readonly CryptoRow[], subtitle: string): Promise<string> {
  const shown = rows.filter((r) => r.kind === 'peer' || r.id === 'raw-node');
  const nameOf = (r: CryptoRow): string => (SHORT_NAMES[r.id] ?? [r.label, '']).join('\n').trim();
  // One order in every panel, so that a contender sits in the same place in each: the largest
  // speed-up first, by the geometric mean at the size the targets are stated at (all sizes when
  // that one was not run).
  const ranked = shown.some((r) => r.size === TARGET_SIZE)
    ? shown.filter((r) => r.size === TARGET_SIZE)
    : shown;
  const logSum = new Map<string, { sum: number; n: number }>();
  for (const r of ranked) {
    const e = logSum.get(nameOf(r)) ?? { sum: 0, n: 0 };
    e.sum += Math.log(r.oursOverThis);
    e.n++;
    logSum.set(nameOf(r), e);
  }
  const order = [...logSum.entries()].sort(([, a], [, b]) => b.sum / b.n - a.sum / a.n).map(([name]) => name);
  const sizes = [...new Set(shown.map((r) => r.size))].sort((a, b) => a - b).map(formatSize);
  const values = shown.map((r) => ({
    op: r.op,
    size: formatSize(r.size),
    name: nameOf(r),
    group: r.kind === 'peer' ? PEER : RAW,
    ratio: r.oursOverThis,
    // The number sits right of the bar's end, and right of the 1× line for bars that go left.
    labelAt: Math.max(r.oursOverThis, 1),
    text: formatRatio(r.oursOverThis),
  }));
  const top = Math.max(2, ...values.map((v) => v.ratio));
  // Room right of the longest bar for its number (a log axis: a factor, not an offset).
  const domainMax = top * 4;
  const ticks = [1, 10, 100, 1000, 10_000].filter((t) => t <= domainMax);
  const y = {
    field: 'name',
    type: 'nominal',
    sort: order,
    title: null,
    axis: {
      labelFontSize: 14,
      labelLimit: 0,
      labelPadding: 6,
      ticks: false,
      domain: false,
      labelExpr: "split(datum.label, '\\n')",
    },
  } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: 'How many times faster is vault-envelope? (longer is better)',
      subtitle: [
        'Envelope, fast backend, cached data key, over each contender: throughput ratio, paired round by round in one process',
        'format A base64 out and in · ' + subtitle,
      ],
      anchor: 'start',
      fontSize: 20,
      subtitleFontSize: 13,
      subtitlePadding: 6,
      offset: 16,
    },
    data: { values },
    facet: {
      row: {
        field: 'size',
        type: 'ordinal',
        sort: sizes,
        title: null,
        header: {
          labelFontSize: 16,
          labelFontWeight: 'bold',
          labelAngle: 0,
          labelAlign: 'left',
          labelOrient: 'top',
        },
      },
      column: {
        field: 'op',
        type: 'nominal',
        sort: ['encrypt', 'decrypt'],
        title: null,
        header: { labelFontSize: 18, labelFontWeight: 'bold' },
      },
    },
    spacing: { row: 18, column: 24 },
    spec: {
      width: 340,
      height: { step: 38 },
      layer: [
        {
          mark: { type: 'bar', height: { band: 0.7 } },
          encoding: {
            y,
            x: {
              field: 'ratio',
              type: 'quantitative',
              scale: { type: 'log', domain: [0.5, domainMax] },
              axis: {
                title: 'Envelope’s throughput ÷ the contender’s (log)',
                titleFontSize: 13,
                labelFontSize: 12,
                values: ticks,
                labelExpr: "datum.value + '×'",
                grid: true,
              },
            },
            x2: { datum: 1 },
            color: {
              field: 'group',
              type: 'nominal',
              scale: { domain: [PEER, RAW], range: ['#3b6ea8', '#e08a2c'] },
              legend: {
                title: null,
                orient: 'top',
                direction: 'vertical',
                labelFontSize: 14,
                labelLimit: 0,
                symbolSize: 160,
              },
            },
          },
        },
        {
          mark: { type: 'text', align: 'left', baseline: 'middle', dx: 5, fontSize: 15, fontWeight: 'bold' },
          encoding: { y, x: { field: 'labelAt', type: 'quantitative' }, text: { field: 'text' } },
        },
        { mark: { type: 'rule', color: '#222', strokeWidth: 1.5 }, encoding: { x: { datum: 1 } } },
      ],
    },
    config: { font: 'sans-serif', view: { stroke: '#ddd' } },
  };
  return render(spec);
}
