import { BarChart, LineChart } from 'echarts/charts';
import {
  AriaComponent,
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([
  BarChart,
  LineChart,
  AriaComponent,
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
  CanvasRenderer,
]);

export type ChartOption = echarts.EChartsCoreOption;

/** Colour-blind-safe series colours (Okabe–Ito). */
const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
];

/**
 * An ECharts chart that fills its box and follows its size. ECharts' aria component labels it
 * with a summary of its data for screen readers; `label` is its visible caption. The numbers are
 * always also in a table on the same page.
 */
export function Chart({
  option,
  label,
  height = 280,
}: {
  option: ChartOption;
  label: string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    if (!box.current) return;
    const instance = echarts.init(box.current, undefined, {
      renderer: 'canvas',
    });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(box.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(
      {
        color: PALETTE,
        aria: { enabled: true },
        animation: false,
        tooltip: { trigger: 'axis' },
        grid: { left: 56, right: 16, top: 40, bottom: 32 },
        title: { text: label, show: false },
        ...option,
      },
      { notMerge: true },
    );
  }, [option]);

  return (
    <figure className="chart">
      <div
        ref={box}
        role="img"
        className="chart-canvas"
        style={{ height }}
        data-testid="chart"
      />
      <figcaption>{label}</figcaption>
    </figure>
  );
}
