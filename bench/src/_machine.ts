/**
 * A description of the machine and the run, stored with every result file: numbers from a
 * loaded 2-core box and from a quiet 16-core one should never be confused.
 * @module
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** Where and when the numbers were taken. */
export interface MachineInfo {
  date: string;
  node: string;
  v8: string;
  openssl: string;
  platform: string;
  arch: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  /** 1-minute load average when the run started (a sign of how shared the machine was). */
  loadAtStart: number;
  /** The same at the end. */
  loadAtEnd?: number;
  gitCommit: string | undefined;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * Describes this machine and Node.
 * @returns The description, with the load average now.
 */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl ?? 'unknown',
    platform: `${os.type()} ${os.release()}`,
    arch: process.arch,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAtStart: os.loadavg()[0] ?? 0,
    gitCommit: gitCommit(),
  };
}
