/** Sizes every generated transformer has. */
export interface TransformerShape {
  layers: number;
  hidden: number;
  heads: number;
  vocab: number;
  context: number;
}

/** Throws a RangeError naming the first size that is not a positive integer, or heads not dividing hidden. */
export function assertTransformerShape(shape: TransformerShape): void {
  for (const [flag, value] of Object.entries(shape)) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${flag} must be a positive integer, got ${value}`);
  }
  if (shape.hidden % shape.heads !== 0)
    throw new RangeError(
      `hidden (${shape.hidden}) must be divisible by heads (${shape.heads})`,
    );
}
