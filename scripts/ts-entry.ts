/**
 * Node's arguments to run a TypeScript entry point in one process, tsx as a loader: what `npm run dev`
 * starts its children with, and how the npm scripts and the tests start TypeScript processes. Not tsx's
 * CLI: that runs the script in a second process, relays signals to it and SIGKILLs it when the relayed
 * signal is not confirmed within ~60 ms, so a SIGTERM or Ctrl-C to a busy process on a loaded machine
 * would end in exit 143 instead of its graceful stop.
 */
export function tsEntry(script: string): string[] {
  return ['--import', 'tsx', script];
}
