/** A loss curve as an SVG polyline; non-finite losses are skipped, fewer than two points show an empty state. */
import { Show, createMemo } from 'solid-js';
import { formatLoss } from './format';

export interface ChartGeometry {
  /** how many finite losses are drawn */
  count: number;
  /** the polyline's points attribute ("x,y x,y ..."), empty when there are fewer than two */
  points: string;
  min: number;
  max: number;
  /** the step of the first and the last finite loss (1-based) */
  firstStep: number;
  lastStep: number;
}

export interface Box {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Where each finite loss goes in `box`; x is its step (position in `losses`), y its value scaled to the range. */
export function chartGeometry(losses: readonly (number | null | undefined)[], box: Box): ChartGeometry {
  const finite: [number, number][] = [];
  losses.forEach((loss, index) => {
    if (typeof loss === 'number' && Number.isFinite(loss)) finite.push([index, loss]);
  });
  let min = finite.length ? finite[0][1] : 0;
  let max = min;
  for (const [, value] of finite) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const firstStep = finite.length ? finite[0][0] + 1 : 0;
  const lastStep = finite.length ? finite[finite.length - 1][0] + 1 : 0;
  if (finite.length < 2) return { count: finite.length, points: '', min, max, firstStep, lastStep };
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const span = finite[finite.length - 1][0] - finite[0][0];
  const range = max - min;
  const points = finite
    .map(([index, value]) => {
      const x = box.left + ((index - finite[0][0]) / span) * plotW;
      const y = range > 0 ? box.top + ((max - value) / range) * plotH : box.top + plotH / 2;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
  return { count: finite.length, points, min, max, firstStep, lastStep };
}

const FULL: Box = { width: 600, height: 220, left: 52, right: 12, top: 12, bottom: 28 };
const COMPACT: Box = { width: 120, height: 32, left: 2, right: 2, top: 3, bottom: 3 };

export function LossChart(props: {
  losses: readonly (number | null | undefined)[];
  /** a small sparkline without axes (the history table) */
  compact?: boolean;
  /** data-testid; 'loss-chart' by default */
  testId?: string;
  /** what the curve is of, for its accessible name */
  title?: string;
}) {
  const box = () => (props.compact ? COMPACT : FULL);
  const geometry = createMemo(() => chartGeometry(props.losses, box()));
  const label = () => {
    const g = geometry();
    const what = props.title ? `${props.title}: ` : '';
    if (g.count === 0) return `${what}no loss recorded yet`;
    if (g.count === 1) return `${what}loss ${formatLoss(g.min)} at step ${g.firstStep}`;
    const first = props.losses[g.firstStep - 1] as number;
    const last = props.losses[g.lastStep - 1] as number;
    return `${what}loss from ${formatLoss(first)} at step ${g.firstStep} to ${formatLoss(last)} at step ${g.lastStep}`;
  };
  return (
    <svg
      class={props.compact ? 'chart ft-sparkline' : 'chart ft-chart'}
      viewBox={`0 0 ${box().width} ${box().height}`}
      role="img"
      aria-label={label()}
      data-testid={props.testId ?? 'loss-chart'}
      data-points={geometry().count}
      preserveAspectRatio={props.compact ? 'none' : 'xMidYMid meet'}
    >
      <Show
        when={geometry().count >= 2}
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
          <line class="axis" x1={FULL.left} y1={FULL.top} x2={FULL.left} y2={FULL.height - FULL.bottom} />
          <line
            class="axis"
            x1={FULL.left}
            y1={FULL.height - FULL.bottom}
            x2={FULL.width - FULL.right}
            y2={FULL.height - FULL.bottom}
          />
          <text x={FULL.left - 6} y={FULL.top + 4} text-anchor="end">
            {formatLoss(geometry().max)}
          </text>
          <text x={FULL.left - 6} y={FULL.height - FULL.bottom} text-anchor="end">
            {formatLoss(geometry().min)}
          </text>
          <text x={FULL.left} y={FULL.height - 8} text-anchor="start">
            step {geometry().firstStep}
          </text>
          <text x={FULL.width - FULL.right} y={FULL.height - 8} text-anchor="end">
            step {geometry().lastStep}
          </text>
        </Show>
        <polyline class="line" points={geometry().points} vector-effect="non-scaling-stroke" />
      </Show>
    </svg>
  );
}
