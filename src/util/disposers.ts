/**
 * A stack of disposers released in reverse order, as AsyncDisposableStack
 * (not in Node 20): what a lab started is undone by one path, whether its
 * start failed half-way or it ran to the end. A disposer that fails does not
 * stop the others; the first failure is rethrown after all have run.
 */
export class Disposers {
  private readonly stack: (() => Promise<unknown>)[] = [];
  private disposing: Promise<void> | undefined;

  /** Adds a disposer, run before every one added earlier. */
  defer(dispose: () => Promise<unknown>): void {
    if (this.disposing !== undefined) throw new Error("cannot defer to disposers already released");
    this.stack.push(dispose);
  }

  /** Adopts a value with its disposer and returns the value. */
  use<T>(value: T, dispose: (value: T) => Promise<unknown>): T {
    this.defer(() => dispose(value));
    return value;
  }

  get disposed(): boolean {
    return this.disposing !== undefined;
  }

  /** Runs every disposer once, last added first; later calls return the same promise. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      let failure: { error: unknown } | undefined;
      for (const fn of this.stack.reverse()) {
        try {
          await fn();
        } catch (e) {
          failure ??= { error: e };
        }
      }
      this.stack.length = 0;
      if (failure) throw failure.error;
    })();
    return this.disposing;
  }
}
