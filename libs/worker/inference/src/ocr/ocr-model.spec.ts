import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { bundledPaddleOcr, OcrImageError, OcrModel } from './ocr-model';

GlobalFonts.registerFromPath(
  join(
    require.resolve('dejavu-fonts-ttf/package.json'),
    '..',
    'ttf',
    'DejaVuSans.ttf',
  ),
  'MarqueeTestSans',
);

// Noto Sans SC (fontsource ships it in unicode-range subsets; each is registered as one family).
const notoSc = join(
  require.resolve('@fontsource/noto-sans-sc/package.json'),
  '..',
  'files',
);
for (const file of readdirSync(notoSc))
  if (file.endsWith('-400-normal.woff2'))
    GlobalFonts.registerFromPath(join(notoSc, file), 'MarqueeTestSC');

interface Drawn {
  text: string;
  size: number;
  x: number;
  y: number;
  /** Degrees, clockwise, about the text's start. */
  angle?: number;
  bold?: boolean;
  /** Draw with the Chinese font. */
  chinese?: boolean;
}

/** A white image with black text drawn in the project's test font. */
function render(width: number, height: number, lines: Drawn[]): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#111111';
  for (const line of lines) {
    ctx.save();
    ctx.translate(line.x, line.y);
    ctx.rotate(((line.angle ?? 0) * Math.PI) / 180);
    ctx.font = `${line.bold ? 'bold ' : ''}${line.size}px ${
      line.chinese ? 'MarqueeTestSC' : 'MarqueeTestSans'
    }`;
    ctx.fillText(line.text, 0, 0);
    ctx.restore();
  }
  return canvas.toBuffer('image/png');
}

/** Levenshtein distance: characters to insert, delete or change to turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        previous[j] + 1,
        row[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = row;
  }
  return previous[b.length];
}

/** 1 - edit distance / length of what was drawn, all lines joined by newlines. */
const accuracy = (read: string[], drawn: string[]) =>
  1 - editDistance(read.join('\n'), drawn.join('\n')) / drawn.join('\n').length;

describe('OcrModel (PaddleOCR PP-OCRv4, trained weights)', () => {
  let model: OcrModel;

  beforeAll(async () => {
    // The repository's node_modules (the package exports only an ES module of paths).
    model = await OcrModel.load(
      bundledPaddleOcr(join(__dirname, ...Array(5).fill('..'), 'node_modules')),
      // Crops wait for every image in detection however slow this machine is, so batching is
      // deterministic here.
      { intraOpThreads: 1, batching: { maxWaitMs: 60_000 } },
    );
  });
  afterAll(() => model?.release());

  it('reads a poster: title and credits line by line in reading order', async () => {
    const drawn = [
      'THE LAST HEIST',
      'Directed by Mara Quinlan',
      'In cinemas 12 March 2027',
    ];
    const result = await model.read(
      render(800, 500, [
        { text: drawn[0], size: 64, x: 120, y: 140, bold: true },
        { text: drawn[1], size: 32, x: 200, y: 260 },
        { text: drawn[2], size: 28, x: 220, y: 380 },
      ]),
    );
    const read = result.lines.map((l) => l.text);
    expect(accuracy(read, drawn)).toBeGreaterThanOrEqual(0.95);
    expect(read).toEqual(drawn);
    for (const line of result.lines)
      expect(line.confidence).toBeGreaterThan(0.8);
    // Boxes lie where the lines were drawn (baselines at 140, 260 and 380).
    const tops = result.lines.map((l) => l.boxes[0].quad[0].y);
    expect(tops[0]).toBeLessThan(140);
    expect(tops[1]).toBeGreaterThan(140);
    expect(tops[2]).toBeGreaterThan(260);
    expect(result).toMatchObject({ width: 800, height: 500, crops: 3 });
  });

  it.each([18, 24, 36, 56])('reads credits drawn at %i px', async (size) => {
    const drawn = ['Music by Ola Brandt', 'Edited by Sam Okafor 2026'];
    const result = await model.read(
      render(size * 16, size * 6, [
        { text: drawn[0], size, x: size, y: size * 2 },
        { text: drawn[1], size, x: size, y: size * 4 },
      ]),
    );
    expect(
      accuracy(
        result.lines.map((l) => l.text),
        drawn,
      ),
    ).toBeGreaterThanOrEqual(0.95);
  });

  it('reads Chinese lines, and Chinese beside English', async () => {
    const drawn = [
      '最后的劫案',
      '二〇二七年三月十二日全国上映',
      '导演 Mara Quinlan',
    ];
    const result = await model.read(
      render(900, 420, [
        { text: drawn[0], size: 64, x: 60, y: 110, chinese: true },
        { text: drawn[1], size: 36, x: 60, y: 230, chinese: true },
        { text: drawn[2], size: 36, x: 60, y: 340, chinese: true },
      ]),
    );
    const read = result.lines.map((l) => l.text);
    expect(accuracy(read, drawn)).toBeGreaterThanOrEqual(0.95);
  });

  it('reads a line drawn at an angle, and one upside down', async () => {
    const result = await model.read(
      render(900, 420, [
        {
          text: 'Now showing at the Rialto',
          size: 40,
          x: 60,
          y: 120,
          angle: 7,
        },
      ]),
    );
    expect(
      accuracy(
        result.lines.map((l) => l.text),
        ['Now showing at the Rialto'],
      ),
    ).toBeGreaterThanOrEqual(0.95);
    const flipped = await model.read(
      render(900, 200, [
        {
          text: 'Coming soon to theatres',
          size: 40,
          x: 660,
          y: 80,
          angle: 180,
        },
      ]),
    );
    expect(
      accuracy(
        flipped.lines.map((l) => l.text),
        ['Coming soon to theatres'],
      ),
    ).toBeGreaterThanOrEqual(0.95);
  });

  it('gives the same lines for an image read alone and among others read at once', async () => {
    const images = ['Opening night', 'Box office 9 to 5', 'Sold out'].map(
      (text) => render(600, 160, [{ text, size: 40, x: 40, y: 100 }]),
    );
    const alone = [];
    for (const image of images) alone.push(await model.read(image));
    const runs = model.stats.recognitionRuns;
    const together = await Promise.all(
      images.map((image) => model.read(image)),
    );
    // Their crops shared one recognition run.
    expect(model.stats.recognitionRuns - runs).toBe(1);
    expect(model.stats.largestRecognitionBatch).toBeGreaterThanOrEqual(3);
    expect(together.map((r) => r.lines.map((l) => l.text))).toEqual(
      alone.map((r) => r.lines.map((l) => l.text)),
    );
    expect(alone.map((r) => r.lines[0]?.text)).toEqual([
      'Opening night',
      'Box office 9 to 5',
      'Sold out',
    ]);
  });

  it('finds no text in a blank image, and refuses what is not an image', async () => {
    const blank = await model.read(render(320, 240, []));
    expect(blank.lines).toEqual([]);
    await expect(model.read(Buffer.from('not an image'))).rejects.toThrow(
      OcrImageError,
    );
  });
});
