/** Where the CLI reads and writes, its environment and signals; tests pass their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: Record<string, string | undefined>;
  /** Calls `listener` when the process is asked to stop (SIGTERM, SIGINT); returns the unsubscribe. */
  onSignal(listener: (signal: string) => void): () => void;
  /** Ends the process at once (a second Ctrl-C during `post`); tests record the code instead. */
  exit(code: number): void;
}

/** A refusal or failure the CLI reports as one line on stderr, then exits non-zero. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Resolves with the name of the next stop signal. */
export function nextSignal(io: CliIo): Promise<string> {
  return new Promise((resolve) => {
    const unsubscribe = io.onSignal((signal) => {
      unsubscribe();
      resolve(signal);
    });
  });
}

/** Reads the whole of a stream as UTF-8. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
