// A Grad-CAM map laid over its image: the map scaled by its maximum, coloured
// with matplotlib's "jet" (as the Grad-CAM paper and pytorch-grad-cam show it),
// blended half and half with the picture.

/** jet(v) for v in [0, 1]: matplotlib's piecewise-linear segments. */
export function jet(v: number): [number, number, number] {
  const ramp = (x: number, points: [number, number][]) => {
    for (let i = 1; i < points.length; i++) {
      const [x0, y0] = points[i - 1];
      const [x1, y1] = points[i];
      if (x <= x1) return y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
    }
    return points[points.length - 1][1];
  };
  const r = ramp(v, [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]]);
  const g = ramp(v, [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]]);
  const b = ramp(v, [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]]);
  return [r, g, b];
}

/** RGB pixels of `rgb` with `map` (one value per pixel, any scale) blended over it. */
export function overlayHeatmap(rgb: { pixels: Buffer; width: number; height: number }, map: Float32Array, alpha = 0.5): { pixels: Buffer; width: number; height: number } {
  const n = rgb.width * rgb.height;
  if (map.length !== n) throw new RangeError(`the map has ${map.length} values for a ${rgb.width}x${rgb.height} image`);
  let max = 0;
  for (const v of map) max = Math.max(max, v);
  const pixels = Buffer.alloc(n * 3);
  for (let i = 0; i < n; i++) {
    const colour = jet(max > 0 ? map[i] / max : 0);
    for (let c = 0; c < 3; c++) pixels[i * 3 + c] = Math.round((1 - alpha) * rgb.pixels[i * 3 + c] + alpha * 255 * colour[c]);
  }
  return { pixels, width: rgb.width, height: rgb.height };
}
