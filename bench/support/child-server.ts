import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ChildServer {
  url: string;
  close(): Promise<void>;
}

/** Starts `bench/support/<file>` in its own process and waits for its `PORT <n>` line. */
export async function startChildServer(file: string): Promise<ChildServer> {
  const child: ChildProcess = fork(join(dirname(fileURLToPath(import.meta.url)), file), [], {
    execArgv: ['--import', '@swc-node/register/esm-register'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}
