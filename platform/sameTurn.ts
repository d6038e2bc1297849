let turn: Promise<void> | undefined;

/**
 * Resolves once this turn of the event loop is done (in its check phase), with one promise for every caller of the
 * turn: their continuations then run one after the other in one microtask run. NATS sends what is published in one
 * microtask run in one write (and its replies mostly come back in one read), so requests that each caller would have
 * sent alone, a system call each, go out together: under load, where each turn ends a few requests (answers read in
 * one poll), that is a few times fewer system calls for one turn's delay.
 */
export function sameTurn(): Promise<void> {
  return (turn ??= new Promise((resolve) =>
    setImmediate(() => {
      turn = undefined;
      resolve();
    }),
  ));
}
