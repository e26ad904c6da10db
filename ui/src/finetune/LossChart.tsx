/** A loss curve as SVG with honest axes: loss from 0 (a change of 1% looks like one), step along the bottom, both
 * labelled with tick values; an optional smoothed line (EMA). Beside the training loss, the evaluation loss as points
 * at the steps it was measured (step 0: the base model), the best step marked, and a legend naming both. Non-finite
 * losses are skipped; fewer than two steps show an empty state. */
import { createMemo, createSignal, For, Show } from 'solid-js';
import type { EvalPoint } from '../api/operations';
import { formatLoss } from './format';

export interface Tick {
  value: number;
  /** where it goes along its axis, in the box's units */
  at: number;
}

export interface ChartGeometry {
  /** how many finite losses are drawn */
  count: number;
  /** the polyline's points attribute ("x,y x,y ..."), empty when there are fewer than two */
  points: string;
  /** the same steps' smoothed losses (see `smooth`), empty when there are fewer than two */
  smoothPoints: string;
  /** the lowest and highest finite loss */
  min: number;
  max: number;
  /** the loss axis: from `yLow` (0 unless a loss is negative) to `yHigh`, with its ticks */
  yLow: number;
  yHigh: number;
  yTicks: Tick[];
  /** the first and the last step drawn (training steps are 1-based; an evaluation may be at step 0), and the step
   * axis's ticks */
  firstStep: number;
  lastStep: number;
  xTicks: Tick[];
  /** how many finite evaluation losses are drawn, their line, and each as a point */
  evalCount: number;
  evalPoints: string;
  evalDots: { step: number; loss: number; x: number; y: number }[];
  /** where the best step's mark goes, when it is on the chart */
  best?: { step: number; x: number };
}

export interface Box {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** A round tick spacing (1, 2, 2.5 or 5 times a power of ten) that cuts `span` into about `count` parts. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * magnitude;
}

const tidy = (value: number): number => Number(value.toPrecision(12)); // 0.1 + 0.2 is 0.3 on an axis

/** The loss axis for losses between `min` and `max`: it always includes 0, so that the height of the curve is in
 * proportion to the losses (2.930 → 2.969 is a 1% change and looks like one), and ends on round ticks. */
export function lossAxis(min: number, max: number, count = 4): { low: number; high: number; ticks: number[] } {
  let low = Math.min(0, min);
  let high = Math.max(0, max);
  if (high === low) high = low + 1;
  const step = niceStep(high - low, count);
  low = tidy(Math.floor(low / step) * step);
  high = tidy(Math.ceil(high / step) * step);
  const ticks: number[] = [];
  for (let i = 0; low + i * step <= high + step / 2; i += 1) ticks.push(tidy(low + i * step));
  return { low, high, ticks };
}

/** Whole-number steps to label between `first` and `last` (about `count` of them); both ends when that is all. */
export function stepTicks(first: number, last: number, count = 5): number[] {
  if (last <= first) return [first];
  let step = niceStep(last - first, count);
  step = step < 1 ? 1 : step === 2.5 ? 2 : Math.round(step);
  const ticks: number[] = [];
  for (let value = Math.ceil(first / step) * step; value <= last; value += step) ticks.push(value);
  return ticks.length >= 2 ? ticks : [first, last];
}

export const SMOOTHING = 0.6;

/** An exponential moving average of `values` (weight `weight` on the past), corrected for its start at 0 as
 * TensorBoard does, so that the first smoothed value is the first value. */
export function smooth(values: readonly number[], weight = SMOOTHING): number[] {
  let average = 0;
  return values.map((value, i) => {
    average = weight * average + (1 - weight) * value;
    return average / (1 - weight ** (i + 1));
  });
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The finite evaluation losses of `evals`, one per step (the later one wins), in step order. */
export function evalSeries(evals: readonly EvalPoint[]): EvalPoint[] {
  const byStep = new Map<number, number>();
  for (const point of evals) {
    if (isFiniteNumber(point.loss) && Number.isInteger(point.step) && point.step >= 0) byStep.set(point.step, point.loss);
  }
  return [...byStep].sort((a, b) => a[0] - b[0]).map(([step, loss]) => ({ step, loss }));
}

/** Where each finite loss goes in `box`: x by its step (position in `losses`; an evaluation's own step), y by its
 * value on `lossAxis`, which covers both series. */
export function chartGeometry(
  losses: readonly (number | null | undefined)[],
  box: Box,
  evals: readonly EvalPoint[] = [],
  bestStep: number | null = null,
): ChartGeometry {
  const finite: [number, number][] = [];
  losses.forEach((loss, index) => {
    if (isFiniteNumber(loss)) finite.push([index + 1, loss]);
  });
  const evaluated = evalSeries(evals);
  let min = finite.length ? finite[0][1] : 0;
  let max = min;
  for (const [, value] of finite) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  // both series are in step order (no spreading into Math.min: a history may hold 100,000 steps)
  const ends = [finite[0]?.[0], finite.at(-1)?.[0], evaluated[0]?.step, evaluated.at(-1)?.step].filter(
    (step): step is number => step !== undefined,
  );
  const firstStep = ends.length ? ends.reduce((a, b) => Math.min(a, b)) : 0;
  const lastStep = ends.length ? ends.reduce((a, b) => Math.max(a, b)) : 0;
  let low = finite.length ? min : (evaluated[0]?.loss ?? 0);
  let high = finite.length ? max : low;
  for (const { loss } of evaluated) {
    if (loss < low) low = loss;
    if (loss > high) high = loss;
  }
  const axis = lossAxis(low, high);
  const empty = {
    count: finite.length,
    points: '',
    smoothPoints: '',
    min,
    max,
    firstStep,
    lastStep,
    evalCount: evaluated.length,
    evalPoints: '',
    evalDots: [],
  };
  if (lastStep <= firstStep) return { ...empty, yLow: axis.low, yHigh: axis.high, yTicks: [], xTicks: [] };
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const x = (step: number) => box.left + ((step - firstStep) / (lastStep - firstStep)) * plotW;
  const y = (value: number) => box.top + ((axis.high - value) / (axis.high - axis.low)) * plotH;
  const line = (values: readonly number[]) =>
    finite.map(([step], i) => `${x(step).toFixed(1)},${y(values[i]).toFixed(1)}`).join(' ');
  const raw = finite.map(([, value]) => value);
  const evalDots = evaluated.map((p) => ({ ...p, x: x(p.step), y: y(p.loss) }));
  const onChart = bestStep !== null && bestStep >= firstStep && bestStep <= lastStep;
  return {
    ...empty,
    points: finite.length >= 2 ? line(raw) : '',
    smoothPoints: finite.length >= 2 ? line(smooth(raw)) : '',
    yLow: axis.low,
    yHigh: axis.high,
    yTicks: axis.ticks.map((value) => ({ value, at: y(value) })),
    xTicks: stepTicks(firstStep, lastStep).map((value) => ({ value, at: x(value) })),
    evalPoints: evalDots.map((d) => `${d.x.toFixed(1)},${d.y.toFixed(1)}`).join(' '),
    evalDots,
    best: onChart ? { step: bestStep, x: x(bestStep) } : undefined,
  };
}

/** The evaluation loss the chart's best step names: the loss at `bestStep`, else undefined. */
export function lossAt(evals: readonly EvalPoint[], step: number | null | undefined): number | undefined {
  if (step == null) return undefined;
  return evalSeries(evals).find((p) => p.step === step)?.loss;
}

const FULL: Box = { width: 600, height: 230, left: 70, right: 16, top: 12, bottom: 46 };
const COMPACT: Box = { width: 120, height: 32, left: 2, right: 2, top: 3, bottom: 3 };

/** A tick value as short as its axis needs: "2.5", "0.25", "1e+4". */
const tickText = (value: number): string => (Math.abs(value) >= 10_000 ? value.toExponential(0) : String(value));

export function LossChart(props: {
  losses: readonly (number | null | undefined)[];
  /** a small sparkline without axes (the history table) */
  compact?: boolean;
  /** data-testid; 'loss-chart' by default */
  testId?: string;
  /** what the curve is of, for its accessible name */
  title?: string;
  /** the evaluation losses by step (step 0: the base model), drawn as points (not in the compact sparkline) */
  evals?: readonly EvalPoint[];
  /** the step with the lowest evaluation loss, marked */
  bestStep?: number | null;
}) {
  const box = () => (props.compact ? COMPACT : FULL);
  const evals = () => (props.compact ? [] : (props.evals ?? []));
  const geometry = createMemo(() => chartGeometry(props.losses, box(), evals(), props.compact ? null : (props.bestStep ?? null)));
  const [smoothed, setSmoothed] = createSignal(false);
  const drawn = () => geometry().lastStep > geometry().firstStep;
  const label = () => {
    const g = geometry();
    const what = props.title ? `${props.title}: ` : '';
    const training = (): string => {
      const finite = props.losses.map((loss, i) => [i + 1, loss] as const).filter(([, loss]) => isFiniteNumber(loss));
      if (finite.length === 0) return 'no loss recorded yet';
      const [firstStep, first] = finite[0];
      if (finite.length === 1) return `loss ${formatLoss(first)} at step ${firstStep}`;
      const [lastStep, last] = finite[finite.length - 1];
      return `loss from ${formatLoss(first)} at step ${firstStep} to ${formatLoss(last)} at step ${lastStep}`;
    };
    const series = evalSeries(evals());
    let evaluation = '';
    if (series.length === 1) evaluation = `; evaluation loss ${formatLoss(series[0].loss)} at step ${series[0].step}`;
    if (series.length > 1) {
      const first = series[0];
      const last = series[series.length - 1];
      evaluation = `; evaluation loss from ${formatLoss(first.loss)} at step ${first.step} to ${formatLoss(last.loss)} at step ${last.step}`;
    }
    const best = g.best ? `; best at step ${g.best.step}` : '';
    return `${what}${training()}${evaluation}${best}`;
  };
  const chart = (
    <svg
      class={props.compact ? 'chart ft-sparkline' : 'chart ft-chart'}
      viewBox={`0 0 ${box().width} ${box().height}`}
      role="img"
      aria-label={label()}
      data-testid={props.testId ?? 'loss-chart'}
      data-points={geometry().count}
      data-eval-points={geometry().evalCount}
      data-best-step={geometry().best?.step}
      data-y-low={geometry().yLow}
      data-y-high={geometry().yHigh}
      data-smoothed={!props.compact && smoothed() ? 'true' : 'false'}
      preserveAspectRatio={props.compact ? 'none' : 'xMidYMid meet'}
    >
      <Show
        when={drawn()}
        fallback={
          <Show when={!props.compact}>
            <text x={box().width / 2} y={box().height / 2} text-anchor="middle" class="ft-chart-empty">
              {geometry().count === 0
                ? 'The loss curve appears once training steps come in'
                : `Step ${geometry().firstStep}: loss ${formatLoss(geometry().min)}; more steps draw a curve`}
            </text>
          </Show>
        }
      >
        <Show when={!props.compact}>
          <g class="ft-grid" aria-hidden="true">
            <For each={geometry().yTicks}>
              {(tick) => (
                <>
                  <line class="grid" x1={FULL.left} y1={tick.at} x2={FULL.width - FULL.right} y2={tick.at} />
                  <text class="tick" data-axis="y" x={FULL.left - 6} y={tick.at + 4} text-anchor="end">
                    {tickText(tick.value)}
                  </text>
                </>
              )}
            </For>
            <For each={geometry().xTicks}>
              {(tick) => (
                <text class="tick" data-axis="x" x={tick.at} y={FULL.height - FULL.bottom + 17} text-anchor="middle">
                  {tick.value}
                </text>
              )}
            </For>
          </g>
          <line class="axis" x1={FULL.left} y1={FULL.top} x2={FULL.left} y2={FULL.height - FULL.bottom} />
          <line
            class="axis"
            x1={FULL.left}
            y1={FULL.height - FULL.bottom}
            x2={FULL.width - FULL.right}
            y2={FULL.height - FULL.bottom}
          />
          <text
            class="axis-label"
            data-testid="axis-y"
            text-anchor="middle"
            transform={`translate(16 ${(FULL.top + FULL.height - FULL.bottom) / 2}) rotate(-90)`}
          >
            loss
          </text>
          <text
            class="axis-label"
            data-testid="axis-x"
            x={(FULL.left + FULL.width - FULL.right) / 2}
            y={FULL.height - 6}
            text-anchor="middle"
          >
            step
          </text>
        </Show>
        <polyline
          class={!props.compact && smoothed() ? 'line line-raw' : 'line'}
          points={geometry().points}
          vector-effect="non-scaling-stroke"
        />
        <Show when={!props.compact && smoothed()}>
          <polyline class="line line-smooth" points={geometry().smoothPoints} vector-effect="non-scaling-stroke" />
        </Show>
        <Show when={geometry().best}>
          {(best) => (
            <g class="ft-best" data-testid="best-step">
              <line class="best-line" x1={best().x} y1={FULL.top} x2={best().x} y2={FULL.height - FULL.bottom} />
              <text class="best-label" x={best().x + 4} y={FULL.top + 11}>
                best
              </text>
            </g>
          )}
        </Show>
        <Show when={geometry().evalCount > 0}>
          <g class="ft-eval" data-testid="eval-series">
            <polyline class="line line-eval" points={geometry().evalPoints} vector-effect="non-scaling-stroke" />
            <For each={geometry().evalDots}>
              {(dot) => (
                <circle
                  class={dot.step === geometry().best?.step ? 'dot dot-eval dot-best' : 'dot dot-eval'}
                  cx={dot.x}
                  cy={dot.y}
                  r={dot.step === geometry().best?.step ? 5.5 : 4}
                  data-step={dot.step}
                  data-loss={dot.loss}
                >
                  <title>
                    step {dot.step}: evaluation loss {formatLoss(dot.loss)}
                  </title>
                </circle>
              )}
            </For>
          </g>
        </Show>
      </Show>
    </svg>
  );
  if (props.compact) return chart;
  return (
    <div class="ft-chart-box">
      {chart}
      <Show when={geometry().evalCount > 0}>
        <ul class="ft-legend" data-testid="chart-legend" aria-label="Legend">
          <li>
            <span class="swatch swatch-train" aria-hidden="true" />
            training loss
          </li>
          <li>
            <span class="swatch swatch-eval" aria-hidden="true" />
            evaluation loss
          </li>
          <Show when={geometry().best}>
            {(best) => (
              <li data-testid="legend-best">
                <span class="swatch swatch-best" aria-hidden="true" />
                best step {best().step} ({formatLoss(lossAt(evals(), best().step))})
              </li>
            )}
          </Show>
        </ul>
      </Show>
      <Show when={geometry().count >= 2}>
        <label class="ft-smooth">
          <input type="checkbox" checked={smoothed()} onChange={(event) => setSmoothed(event.currentTarget.checked)} />{' '}
          Smooth the curve (moving average)
        </label>
      </Show>
    </div>
  );
}
