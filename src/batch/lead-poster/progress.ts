import { Presets, SingleBar } from 'cli-progress';
import type { PostProgress } from './post-file';

/** Shows a run's progress; stopped before the summary is printed. */
export interface ProgressDisplay {
  update(progress: PostProgress): void;
  stop(): void;
}

/** An output stream that may be a terminal. */
export type MaybeTerminal = NodeJS.WritableStream & { isTTY?: boolean };

const NO_DISPLAY: ProgressDisplay = { update: () => undefined, stop: () => undefined };

/**
 * A progress bar with rate and ETA on a terminal; nothing at all when the stream is a file or a pipe
 * (a CI log full of redraws helps no one; the summary line says what happened).
 */
export function createProgressDisplay(stream: MaybeTerminal, now: () => number = Date.now): ProgressDisplay {
  if (!stream.isTTY) return NO_DISPLAY;
  const bar = new SingleBar(
    {
      stream,
      format: 'posting {bar} {value}/{total} rows | {rate} rows/s | ETA {eta_formatted} | {failed} failed',
      // Rows finish in bursts of `concurrency`; a longer window keeps the ETA from jumping about.
      etaBuffer: 200,
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  );
  let startedAt: number | null = null;
  let skipped = 0;
  return {
    update(progress) {
      if (startedAt === null) {
        startedAt = now();
        skipped = progress.skipped;
        bar.start(progress.total, progress.done, { rate: '0', failed: progress.failed });
        return;
      }
      // Rows skipped as already done are not part of this run's rate.
      const seconds = Math.max((now() - startedAt) / 1000, 0.001);
      const rate = (progress.done - skipped) / seconds;
      bar.update(progress.done, { rate: rate >= 10 ? rate.toFixed(0) : rate.toFixed(1), failed: progress.failed });
    },
    stop() {
      if (startedAt !== null) bar.stop();
    },
  };
}
