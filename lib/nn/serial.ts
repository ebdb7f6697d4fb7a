// Calls on one model run one at a time: two forward passes in train mode would
// race on BatchNorm's running statistics, and an optimizer step must not
// interleave with a forward pass over the same weights.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
