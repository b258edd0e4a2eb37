/**
 * The throughput chart: operations per second by plaintext size, ours against each baseline and
 * peer, encrypt and decrypt side by side. A Vega-Lite spec, compiled and rendered to SVG by Vega
 * on Node (no browser, no canvas).
 * @module
 */
import vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { CryptoRow } from './case-crypto.js';

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
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
