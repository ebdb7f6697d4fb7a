// Multi-step work on one model runs one piece at a time: a data-parallel step
// awaits collectives between its native calls, and another step must not
// slip in between. (Each single native call is ordered by the native compute
// queue already.)
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
