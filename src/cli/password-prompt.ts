import { CliError, readAll, type CliIo } from './cli-io';

/** Asks for a line on a terminal without echoing it. */
function askHidden(io: CliIo, question: string): Promise<string> {
  const { stdin, stderr } = io;
  stderr.write(question);
  stdin.setRawMode?.(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error: Error | null) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string | Buffer) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003' || ch === '\u0004')
          return finish(new CliError('cancelled: the password was not changed', 130));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * A new password: typed twice on a terminal (not echoed), or the first line of stdin when it is piped
 * (or --stdin). Never an argument, so it stays out of shell history and `ps`.
 */
export async function readNewPassword(io: CliIo, options: { fromStdin: boolean }): Promise<string> {
  let password: string;
  if (options.fromStdin || !io.stdin.isTTY) {
    password = (await readAll(io.stdin)).split(/\r?\n/)[0];
  } else {
    password = await askHidden(io, 'New password: ');
    const again = await askHidden(io, 'Type it again: ');
    if (password !== again) throw new CliError('the two passwords are not the same; nothing was changed');
  }
  if (password === '') throw new CliError('the password is empty; nothing was changed', 2);
  return password;
}
