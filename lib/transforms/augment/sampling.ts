// The distributions the augmentations draw from, on the project's seeded
// Generator (not torch's stream): the same seed gives the same draws.
import { Generator } from "../../random";

/** A standard normal (Box-Muller, from two uniforms). */
export function normal(generator: Generator): number {
  // 1 - u keeps the logarithm's argument in (0, 1].
  const u = 1 - generator.random(), v = generator.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia and Tsang; shapes below 1 through the boost Gamma(a + 1) * U^(1/a). */
export function gamma(shape: number, generator: Generator): number {
  if (shape < 1) return gamma(shape + 1, generator) * Math.pow(1 - generator.random(), 1 / shape);
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = normal(generator);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - generator.random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** The first coordinate of Dirichlet([alpha, alpha]) (torch._sample_dirichlet), i.e. Beta(alpha, alpha). */
export function symmetricBeta(alpha: number, generator: Generator): number {
  const x = gamma(alpha, generator), y = gamma(alpha, generator);
  return x + y > 0 ? x / (x + y) : generator.random() < 0.5 ? 0 : 1;
}
