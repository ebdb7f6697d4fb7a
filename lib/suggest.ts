// "Did you mean ...?": the known name closest to a mistyped one, for option
// keys and command-line flags alike.

/** Edit distance (insertions, deletions, substitutions, swaps of neighbours) between two strings. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Letters only, lower case: batch_size, batch-size and batchSize all read "batchsize". */
function normalise(name: string): string {
  return name.replace(/[-_\s]/g, "").toLowerCase();
}

/**
 * The candidate `name` most likely meant, or undefined when none is close:
 * the same words in another case or separator (batch_size for batchSize), a
 * part of it (--epoch for --epochs, epochs for numEpochs), or a typo of at
 * most a third of its letters.
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = normalise(name);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const c = normalise(candidate);
    const contained = Math.min(c.length, wanted.length) >= 3 && (c.includes(wanted) || wanted.includes(c)); // epochs in numEpochs
    const score = c === wanted ? 0 : contained ? 1 : 1 + distance(wanted, c);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  const limit = 1 + Math.max(1, Math.floor(wanted.length / 3));
  return wanted.length > 0 && bestScore <= limit ? best : undefined;
}
