/** A point in image pixels. */
export interface Point {
  x: number;
  y: number;
}

/**
 * A text box: four corners clockwise from the top-left of the text as it reads (a rotated
 * rectangle), in image pixels.
 */
export type Quad = [Point, Point, Point, Point];

/**
 * The connected regions (4-connected) of the pixels of `mask` (width x height, row-major) that
 * are set, each as the list of its pixel indices; regions under `minPixels` are dropped.
 */
export function connectedRegions(
  mask: Uint8Array,
  width: number,
  height: number,
  minPixels = 4,
): number[][] {
  const seen = new Uint8Array(mask.length);
  const regions: number[][] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    const region: number[] = [];
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop() as number;
      region.push(p);
      const x = p % width;
      const y = (p - x) / width;
      const visit = (q: number) => {
        if (mask[q] && !seen[q]) {
          seen[q] = 1;
          stack.push(q);
        }
      };
      if (x > 0) visit(p - 1);
      if (x < width - 1) visit(p + 1);
      if (y > 0) visit(p - width);
      if (y < height - 1) visit(p + width);
    }
    if (region.length >= minPixels) regions.push(region);
  }
  return regions;
}

/** The convex hull (counter-clockwise, Andrew's monotone chain) of the pixels' outer corners. */
export function convexHull(pixels: readonly number[], width: number): Point[] {
  // Only each row's leftmost and rightmost pixels can be on the hull.
  const rows = new Map<number, [number, number]>();
  for (const p of pixels) {
    const x = p % width;
    const y = (p - x) / width;
    const row = rows.get(y);
    if (!row) rows.set(y, [x, x]);
    else {
      if (x < row[0]) row[0] = x;
      if (x > row[1]) row[1] = x;
    }
  }
  const points: Point[] = [];
  for (const [y, [left, right]] of rows) {
    points.push({ x: left, y }, { x: left, y: y + 1 });
    points.push({ x: right + 1, y }, { x: right + 1, y: y + 1 });
  }
  points.sort((a, b) => a.x - b.x || a.y - b.y);
  const cross = (o: Point, a: Point, b: Point) =>
    (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const half = (list: Point[]) => {
    const hull: Point[] = [];
    for (const p of list) {
      while (
        hull.length >= 2 &&
        cross(hull[hull.length - 2], hull[hull.length - 1], p) <= 0
      )
        hull.pop();
      hull.push(p);
    }
    hull.pop();
    return hull;
  };
  return [...half(points), ...half([...points].reverse())];
}

/** A rotated rectangle: centre, side lengths along its own axes, and the unit axis `u` of `width`. */
export interface RotatedRect {
  center: Point;
  width: number;
  height: number;
  /** Unit vector along `width`; `height` runs along its perpendicular (-u.y, u.x). */
  u: Point;
}

/** The smallest-area rectangle around a convex polygon (rotating calipers over its edges). */
export function minAreaRect(hull: readonly Point[]): RotatedRect {
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i];
    const b = hull[(i + 1) % hull.length];
    const length = Math.hypot(b.x - a.x, b.y - a.y);
    if (length === 0) continue;
    const u = { x: (b.x - a.x) / length, y: (b.y - a.y) / length };
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const pu = p.x * u.x + p.y * u.y;
      const pv = -p.x * u.y + p.y * u.x;
      minU = Math.min(minU, pu);
      maxU = Math.max(maxU, pu);
      minV = Math.min(minV, pv);
      maxV = Math.max(maxV, pv);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = {
        center: { x: cu * u.x - cv * u.y, y: cu * u.y + cv * u.x },
        width: maxU - minU,
        height: maxV - minV,
        u,
      };
    }
  }
  if (!best) {
    const p = hull[0] ?? { x: 0, y: 0 };
    return { center: p, width: 0, height: 0, u: { x: 1, y: 0 } };
  }
  return best;
}

/**
 * The rectangle as text reads it: `width` along the axis closer to horizontal (pointing right),
 * corners from the top-left clockwise. (A box much taller than wide stays so: the crop is turned
 * later, as PaddleOCR does.)
 */
export function toQuad(rect: RotatedRect): Quad {
  let { u, width, height } = rect;
  if (Math.abs(u.x) < Math.abs(u.y)) {
    // The other axis is closer to horizontal: swap the sides.
    u = { x: -u.y, y: u.x };
    [width, height] = [height, width];
  }
  if (u.x < 0) u = { x: -u.x, y: -u.y };
  const v = { x: -u.y, y: u.x }; // points down when u points right
  const { x, y } = rect.center;
  const at = (su: number, sv: number): Point => ({
    x: x + (su * width * u.x) / 2 + (sv * height * v.x) / 2,
    y: y + (su * width * u.y) / 2 + (sv * height * v.y) / 2,
  });
  return [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
}

/**
 * Grows a rectangle the way PaddleOCR's DB post-processing unclips a text kernel: by
 * area x ratio / perimeter on every side (the offset polygon's bounding rectangle).
 */
export function unclip(rect: RotatedRect, ratio: number): RotatedRect {
  const { width, height } = rect;
  const perimeter = 2 * (width + height);
  const d = perimeter > 0 ? (width * height * ratio) / perimeter : 0;
  return { ...rect, width: width + 2 * d, height: height + 2 * d };
}

/** Quads in reading order: top to bottom, and left to right within a line. */
export function readingOrder<T extends { quad: Quad }>(
  boxes: readonly T[],
): T[][] {
  const centre = (q: Quad) => (q[0].y + q[1].y + q[2].y + q[3].y) / 4;
  const tall = (q: Quad) => Math.hypot(q[3].x - q[0].x, q[3].y - q[0].y);
  const sorted = [...boxes].sort((a, b) => centre(a.quad) - centre(b.quad));
  const lines: T[][] = [];
  for (const box of sorted) {
    const line = lines.at(-1);
    const last = line?.at(-1);
    // Same line when the centres are within half the smaller box's height.
    if (
      line &&
      last &&
      Math.abs(centre(box.quad) - centre(last.quad)) <
        Math.min(tall(box.quad), tall(last.quad)) / 2
    )
      line.push(box);
    else lines.push([box]);
  }
  return lines.map((line) => line.sort((a, b) => a.quad[0].x - b.quad[0].x));
}
