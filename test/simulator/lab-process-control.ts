import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** Starts lab-process.ts (the real runtime in a process of its own) with `env` and `args`. */
export function spawnLabProcess(env: NodeJS.ProcessEnv, args: string[]): ChildProcessByStdio<null, Readable, null> {
  return spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'lab-process.ts'), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Runs lab-process.ts, waits for its first output line, lets it work `runForMs`, then SIGKILLs it; answers the line's second word. */
export async function runThenKill(env: NodeJS.ProcessEnv, args: string[], runForMs: number): Promise<string> {
  const child = spawnLabProcess(env, args);
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('lab process printed nothing within 60 s')), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(chunk.toString().trim());
    });
    child.on('exit', (code) => reject(new Error(`lab process exited early (${code})`)));
  });
  await new Promise((resolve) => setTimeout(resolve, runForMs));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return line.split(' ')[1]!;
}
