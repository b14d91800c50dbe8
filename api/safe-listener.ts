/**
 * An event listener that cannot throw: an exception in a `res.on('finish')` listener is thrown out of
 * EventEmitter.emit inside Node's HTTP machinery, where nothing catches it and the process dies. Every
 * listener the API registers on a request, response or socket goes through this.
 */
export function safeListener<A extends unknown[]>(
  listener: (...args: A) => void,
  onError: (err: unknown) => void,
): (...args: A) => void {
  return (...args: A) => {
    try {
      listener(...args);
    } catch (err) {
      try {
        onError(err);
      } catch {
        // The error reporter failed too: nothing is left to tell, and throwing here would kill the process.
      }
    }
  };
}
