/**
 * How the CLI shows a job's progress on stderr: a bar with rows/s and ETA on a terminal
 * (cli-progress), a plain line every few seconds when stderr is not a terminal (CI logs, files),
 * JSON lines with `--json`, nothing with `--quiet`.
 * @module
 */
import cliProgress from 'cli-progress';
import type { MigrationProgress } from './engine.js';

/** Receives progress; `stop()` ends the display. */
export interface ProgressView {
  update(p: MigrationProgress): void;
  stop(): void;
}

/** Rows per second and the estimated seconds left. */
export function rateOf(p: MigrationProgress): { rate: number; eta: number } {
  const rate = p.elapsedMs > 0 ? (p.rows * 1000) / p.elapsedMs : 0;
  const left = Math.max(0, p.total - p.rows);
  return { rate, eta: rate > 0 ? left / rate : Number.POSITIVE_INFINITY };
}

const seconds = (s: number) =>
  !Number.isFinite(s)
    ? '?'
    : s < 60
      ? `${Math.round(s)}s`
      : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;

/**
 * The view for the given output mode.
 * @param label - `encrypt users`, shown before each line.
 * @param mode - `tty`, `plain`, `json` or `quiet`.
 * @param write - Where lines go (stderr).
 */
export function progressView(
  label: string,
  mode: 'tty' | 'plain' | 'json' | 'quiet',
  write: (line: string) => void,
  stream?: NodeJS.WritableStream,
): ProgressView {
  if (mode === 'quiet') return { update() {}, stop() {} };
  if (mode === 'json') {
    return {
      update(p) {
        const { rate, eta } = rateOf(p);
        write(
          JSON.stringify({
            type: 'progress',
            ...p,
            rate: Math.round(rate),
            eta: Number.isFinite(eta) ? Math.round(eta) : null,
          }),
        );
      },
      stop() {},
    };
  }
  if (mode === 'plain') {
    let last = Number.NEGATIVE_INFINITY;
    return {
      update(p) {
        const now = performance.now();
        if (now - last < 2000 && p.rows < p.total) return;
        last = now;
        const { rate, eta } = rateOf(p);
        const pct = p.total === 0 ? 100 : Math.min(100, Math.floor((p.rows / p.total) * 100));
        write(
          `${label}: ${p.rows}/${p.total} rows (${pct}%), ${Math.round(rate)} rows/s, ETA ${seconds(eta)}`,
        );
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {etaText}`,
      stream: stream ?? process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const { rate, eta } = rateOf(p);
      const payload = { rate: Math.round(rate), etaText: seconds(eta) };
      if (!started) {
        bar.start(Math.max(p.total, p.rows), p.rows, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(p.total, p.rows));
        bar.update(p.rows, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
