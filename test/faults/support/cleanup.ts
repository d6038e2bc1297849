// Whatever a fault test started must not outlive it, even when the test worker exits without its afterAll.
const cleanups = new Set<() => void>();
let hooked = false;

/** Run `cleanup` (synchronous, idempotent) when this process exits; returns a function that forgets it. */
export function onExit(cleanup: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of cleanups) {
        try {
          c();
        } catch {
          // best effort at exit
        }
      }
    });
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
