import { cleanup, fireEvent, render, screen } from '@solidjs/testing-library';
import { createSignal } from 'solid-js';
import { afterEach, describe, expect, it } from 'vitest';
import { chartGeometry, evalSeries, LossChart, lossAt, lossAxis, smooth, stepTicks } from './LossChart';

afterEach(cleanup);

const BOX = { width: 100, height: 50, left: 0, right: 0, top: 0, bottom: 0 };

function pointsOf(svg: Element): [number, number][] {
  const line = svg.querySelector('polyline');
  if (!line) return [];
  return (line.getAttribute('points') ?? '')
    .trim()
    .split(/\s+/)
    .map((pair) => pair.split(',').map(Number) as [number, number]);
}

describe('LossChart', () => {
  it('draws one polyline vertex per loss and says how many', () => {
    render(() => <LossChart losses={[2.5, 2.1, 1.7, 1.2, 0.9]} />);
    const svg = screen.getByTestId('loss-chart');
    expect(svg.getAttribute('data-points')).toBe('5');
    const points = pointsOf(svg);
    expect(points).toHaveLength(5);
    // x grows with the step; a falling loss draws lower (larger y) each step
    for (let i = 1; i < points.length; i += 1) {
      expect(points[i][0]).toBeGreaterThan(points[i - 1][0]);
      expect(points[i][1]).toBeGreaterThan(points[i - 1][1]);
    }
    expect(svg).toHaveAccessibleName(/from 2\.500 at step 1 to 0\.9000 at step 5/);
  });

  it('shows an empty state without a line for no points', () => {
    render(() => <LossChart losses={[]} />);
    const svg = screen.getByTestId('loss-chart');
    expect(svg.getAttribute('data-points')).toBe('0');
    expect(svg.querySelector('polyline')).toBeNull();
    expect(svg.textContent).toMatch(/appears once training steps come in/);
  });

  it('shows an empty state without a line for one point', () => {
    render(() => <LossChart losses={[1.25]} />);
    const svg = screen.getByTestId('loss-chart');
    expect(svg.getAttribute('data-points')).toBe('1');
    expect(svg.querySelector('polyline')).toBeNull();
    expect(svg.textContent).toMatch(/Step 1: loss 1\.250/);
  });

  it('skips NaN, Infinity and missing losses without breaking the line', () => {
    render(() => <LossChart losses={[1, Number.NaN, 0.5, Number.POSITIVE_INFINITY, null, undefined, 0.25, -Infinity]} />);
    const svg = screen.getByTestId('loss-chart');
    expect(svg.getAttribute('data-points')).toBe('3');
    const points = pointsOf(svg);
    expect(points).toHaveLength(3);
    expect(points.flat().every(Number.isFinite)).toBe(true);
    expect(svg.innerHTML).not.toMatch(/NaN|Infinity/);
  });

  it('treats only non-finite losses as empty', () => {
    render(() => <LossChart losses={[Number.NaN, Number.POSITIVE_INFINITY]} />);
    const svg = screen.getByTestId('loss-chart');
    expect(svg.getAttribute('data-points')).toBe('0');
    expect(svg.querySelector('polyline')).toBeNull();
  });

  it('follows new losses as they come', () => {
    const [losses, setLosses] = createSignal<number[]>([3]);
    render(() => <LossChart losses={losses()} />);
    const svg = screen.getByTestId('loss-chart');
    expect(svg.querySelector('polyline')).toBeNull();
    setLosses([3, 2]);
    expect(pointsOf(svg)).toHaveLength(2);
    setLosses([3, 2, 1.5]);
    expect(svg.getAttribute('data-points')).toBe('3');
    expect(pointsOf(svg)).toHaveLength(3);
  });

  it('draws a compact sparkline under its own test id, without axes', () => {
    render(() => <LossChart losses={[1, 0.8, 0.7]} compact testId="loss-sparkline" />);
    expect(screen.queryByTestId('loss-chart')).toBeNull();
    const svg = screen.getByTestId('loss-sparkline');
    expect(pointsOf(svg)).toHaveLength(3);
    expect(svg.querySelectorAll('line.axis, text')).toHaveLength(0);
  });

  it('labels both axes and shows their tick values', () => {
    render(() => <LossChart losses={[2.5, 2.1, 1.7, 1.2, 0.9]} />);
    const svg = screen.getByTestId('loss-chart');
    expect(screen.getByTestId('axis-y')).toHaveTextContent('loss');
    expect(screen.getByTestId('axis-x')).toHaveTextContent('step');
    const yTicks = [...svg.querySelectorAll('text[data-axis="y"]')].map((t) => t.textContent);
    expect(yTicks).toEqual(['0', '1', '2', '3']);
    const xTicks = [...svg.querySelectorAll('text[data-axis="x"]')].map((t) => t.textContent);
    expect(xTicks).toEqual(['1', '2', '3', '4', '5']);
    expect(svg.getAttribute('data-y-low')).toBe('0');
  });

  it('draws a smoothed line over the raw one when asked', () => {
    render(() => <LossChart losses={[3, 2, 2.6, 1.8, 2.2]} />);
    const svg = screen.getByTestId('loss-chart');
    expect(svg.querySelectorAll('polyline')).toHaveLength(1);
    const toggle = screen.getByRole('checkbox', { name: /Smooth the curve/ });
    fireEvent.click(toggle);
    expect(svg).toHaveAttribute('data-smoothed', 'true');
    const lines = svg.querySelectorAll('polyline');
    expect(lines).toHaveLength(2);
    expect(lines[1].getAttribute('class')).toContain('line-smooth');
    expect(lines[1].getAttribute('points')).not.toBe(lines[0].getAttribute('points'));
    fireEvent.click(toggle);
    expect(svg.querySelectorAll('polyline')).toHaveLength(1);
  });
});

describe('chartGeometry', () => {
  it('puts a loss at its height above 0: twice the loss, twice the height', () => {
    const g = chartGeometry([4, 2, 3], BOX);
    expect(g).toMatchObject({ count: 3, min: 2, max: 4, firstStep: 1, lastStep: 3, yLow: 0, yHigh: 4 });
    expect(g.points).toBe('0.0,0.0 50.0,25.0 100.0,12.5');
  });

  it('draws a flat curve at its height, not in an invented middle', () => {
    const g = chartGeometry([1, 1, 1], BOX);
    expect(g.yHigh).toBe(1);
    expect(g.points).toBe('0.0,0.0 50.0,0.0 100.0,0.0');
  });

  it('does not make a 1% change look like a climb', () => {
    const g = chartGeometry([2.93, 2.95, 2.969], BOX);
    expect(g.yLow).toBe(0);
    expect(g.yHigh).toBeGreaterThanOrEqual(2.969);
    const ys = g.points.split(' ').map((p) => Number(p.split(',')[1]));
    // the whole change spans a small part of the 50-unit height
    expect(Math.max(...ys) - Math.min(...ys)).toBeLessThan(2);
  });

  it('keeps step spacing where losses are missing', () => {
    const g = chartGeometry([undefined, 2, Number.NaN, Number.NaN, 1], BOX);
    expect(g).toMatchObject({ count: 2, firstStep: 2, lastStep: 5 });
    expect(g.points).toBe('0.0,0.0 100.0,25.0');
    expect(g.xTicks.map((t) => t.value)).toEqual([2, 3, 4, 5]);
    expect(g.xTicks[0].at).toBe(0);
    expect(g.xTicks[3].at).toBe(100);
  });

  it('places the loss ticks on the axis, 0 at the bottom', () => {
    const g = chartGeometry([2.5, 1.7, 1.2], BOX);
    expect(g.yTicks.map((t) => t.value)).toEqual([0, 1, 2, 3]);
    expect(g.yTicks[0].at).toBe(50);
    expect(g.yTicks[3].at).toBe(0);
  });

  it('copes with long histories', () => {
    const losses = Array.from({ length: 200_000 }, (_, i) => 1 / (i + 1));
    const g = chartGeometry(losses, BOX);
    expect(g.count).toBe(200_000);
    expect(g.max).toBe(1);
    expect(g.xTicks.length).toBeLessThanOrEqual(6);
  });
});

describe('lossAxis', () => {
  it('starts at 0 and ends on a round tick above the highest loss', () => {
    expect(lossAxis(2.93, 2.969)).toEqual({ low: 0, high: 3, ticks: [0, 1, 2, 3] });
    expect(lossAxis(0.12, 0.41)).toEqual({ low: 0, high: 0.6, ticks: [0, 0.2, 0.4, 0.6] });
    expect(lossAxis(7, 13).ticks).toEqual([0, 5, 10, 15]);
  });

  it('has a span when every loss is 0, and reaches below 0 for negative losses', () => {
    expect(lossAxis(0, 0)).toMatchObject({ low: 0, high: 1 });
    const axis = lossAxis(-1.5, 2);
    expect(axis.low).toBeLessThanOrEqual(-1.5);
    expect(axis.ticks).toContain(0);
  });
});

describe('stepTicks', () => {
  it('labels whole steps only', () => {
    expect(stepTicks(1, 2)).toEqual([1, 2]);
    expect(stepTicks(1, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stepTicks(1, 400)).toEqual([100, 200, 300, 400]);
    expect(stepTicks(1, 400).every(Number.isInteger)).toBe(true);
    expect(stepTicks(3, 3)).toEqual([3]);
  });
});

describe('smooth', () => {
  it('starts at the first value and follows the trend with less noise', () => {
    const noisy = [3, 2, 2.6, 1.8, 2.2, 1.5];
    const smoothed = smooth(noisy);
    expect(smoothed[0]).toBeCloseTo(3);
    expect(smoothed).toHaveLength(noisy.length);
    const wiggle = (xs: number[]) => xs.slice(1).reduce((sum, x, i) => sum + Math.abs(x - xs[i]), 0);
    expect(wiggle(smoothed)).toBeLessThan(wiggle(noisy));
    expect(smoothed.at(-1)!).toBeLessThan(smoothed[0]);
  });

  it('leaves a constant series as it is', () => {
    for (const value of smooth([2, 2, 2, 2])) expect(value).toBeCloseTo(2);
  });
});

describe('the evaluation series', () => {
  const evals = [
    { step: 0, loss: 3 },
    { step: 2, loss: 2 },
    { step: 4, loss: 2.5 },
  ];

  it('puts evaluation points at their steps, step 0 included, on the same axes', () => {
    const g = chartGeometry([2.8, 2.4, 2.2, 1.9], BOX, evals, 2);
    expect(g).toMatchObject({ count: 4, evalCount: 3, firstStep: 0, lastStep: 4, yLow: 0, yHigh: 3 });
    expect(g.evalDots.map((d) => [d.step, d.x, Number(d.y.toFixed(3))])).toEqual([
      [0, 0, 0],
      [2, 50, 16.667],
      [4, 100, 8.333],
    ]);
    expect(g.points.split(' ')[0]).toBe('25.0,3.3'); // training starts at step 1, a quarter along
    expect(g.best).toEqual({ step: 2, x: 50 });
  });

  it('draws the chart from the evaluations alone (step 0 and one more), with no training line yet', () => {
    const g = chartGeometry([undefined], BOX, [{ step: 0, loss: 3 }, { step: 1, loss: 2.9 }]);
    expect(g.count).toBe(0);
    expect(g.points).toBe('');
    expect(g.evalDots).toHaveLength(2);
    expect(chartGeometry([], BOX, [{ step: 0, loss: 3 }]).yTicks).toEqual([]); // one step: nothing to draw yet
  });

  it('keeps one finite evaluation a step, in step order', () => {
    expect(
      evalSeries([
        { step: 4, loss: 1 },
        { step: 0, loss: Number.NaN },
        { step: 2, loss: 2 },
        { step: 4, loss: 0.5 },
        { step: -1, loss: 1 },
      ]),
    ).toEqual([
      { step: 2, loss: 2 },
      { step: 4, loss: 0.5 },
    ]);
    expect(lossAt(evals, 4)).toBe(2.5);
    expect(lossAt(evals, 3)).toBeUndefined();
    expect(lossAt(evals, null)).toBeUndefined();
  });

  it('draws the points, the best step and a legend naming both series', () => {
    render(() => <LossChart losses={[2.8, 2.4, 2.2, 1.9]} evals={evals} bestStep={2} />);
    const svg = screen.getByTestId('loss-chart');
    expect(svg).toHaveAttribute('data-eval-points', '3');
    expect(svg).toHaveAttribute('data-best-step', '2');
    const dots = [...svg.querySelectorAll('circle.dot-eval')];
    expect(dots.map((d) => d.getAttribute('data-step'))).toEqual(['0', '2', '4']);
    expect(dots[1]).toHaveClass('dot-best');
    expect(screen.getByTestId('best-step')).toHaveTextContent('best');
    const legend = screen.getByTestId('chart-legend');
    expect(legend).toHaveTextContent('training loss');
    expect(legend).toHaveTextContent('evaluation loss');
    expect(screen.getByTestId('legend-best')).toHaveTextContent('best step 2 (2.000)');
    expect([...svg.querySelectorAll('text[data-axis="x"]')].map((t) => t.textContent)).toEqual(['0', '1', '2', '3', '4']);
    expect(svg).toHaveAccessibleName(
      /loss from 2\.800 at step 1 to 1\.900 at step 4; evaluation loss from 3\.000 at step 0 to 2\.500 at step 4; best at step 2/,
    );
  });

  it('has no legend and no points without evaluations', () => {
    render(() => <LossChart losses={[2.8, 2.4]} evals={[]} bestStep={null} />);
    expect(screen.queryByTestId('chart-legend')).toBeNull();
    expect(screen.getByTestId('loss-chart')).toHaveAttribute('data-eval-points', '0');
    expect(screen.getByTestId('loss-chart').querySelector('circle')).toBeNull();
  });

  it('follows live evaluations, and a best step without its point on the chart is not drawn', () => {
    const [points, setPoints] = createSignal([{ step: 0, loss: 3 }]);
    render(() => <LossChart losses={[2.9]} evals={points()} bestStep={9} />);
    const svg = screen.getByTestId('loss-chart');
    expect(svg.querySelectorAll('circle')).toHaveLength(1);
    setPoints([...points(), { step: 2, loss: 2.5 }]);
    expect(svg.querySelectorAll('circle')).toHaveLength(2);
    expect(screen.queryByTestId('best-step')).toBeNull();
    expect(screen.getByTestId('chart-legend')).not.toHaveTextContent('best');
  });

  it('leaves the compact sparkline to the training loss', () => {
    render(() => <LossChart losses={[1, 0.8]} compact testId="loss-sparkline" evals={evals} bestStep={2} />);
    const svg = screen.getByTestId('loss-sparkline');
    expect(svg.querySelector('circle')).toBeNull();
    expect(screen.queryByTestId('chart-legend')).toBeNull();
  });
});
