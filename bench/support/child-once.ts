/**
 * A benchmark part that runs once in a child process of its own (the load generator, the floor's memory
 * run): the parent forks the part's file, sends it a spec over IPC and gets back one result or one error;
 * the child never outlives the parent.
 */
import { fork } from 'node:child_process';

type FromChild<R> = { type: 'done'; result: R } | { type: 'error'; message: string };

/** Forks `file` with `execArgv`, hands it `spec` and resolves with the result it sends back. */
export async function runChildOnce<S, R>(
  file: string,
  execArgv: string[],
  name: string,
  spec: S,
): Promise<R> {
  const child = fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    return await new Promise<R>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
      child.on('message', (raw) => {
        const msg = raw as FromChild<R>;
        if (msg.type === 'done') resolve(msg.result);
        else reject(new Error(`${name}: ${msg.message}`));
      });
      child.send(spec as object);
    });
  } finally {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}

/**
 * The child's side, when `mod` is the module node started (through fork: an IPC channel is there): runs
 * the spec it is sent, sends back the result or the error, and exits.
 */
export function serveChildOnce<S, R>(mod: NodeModule, run: (spec: S) => Promise<R>): void {
  if (require.main !== mod || process.send === undefined) return;
  process.once('message', (spec: S) => {
    run(spec).then(
      (result) => process.send?.({ type: 'done', result } satisfies FromChild<R>, () => process.exit(0)),
      (err: unknown) =>
        process.send?.(
          { type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies FromChild<R>,
          () => process.exit(1),
        ),
    );
  });
  // The parent died or closed the channel: never outlive it.
  process.on('disconnect', () => process.exit(0));
}
