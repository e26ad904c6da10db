import { cleanup, render, screen } from '@solidjs/testing-library';
import { createSignal } from 'solid-js';
import { afterEach, describe, expect, it } from 'vitest';
import { chartGeometry, LossChart } from './LossChart';

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
});

describe('chartGeometry', () => {
  it('scales the lowest loss to the bottom and the highest to the top', () => {
    const g = chartGeometry([4, 2, 3], BOX);
    expect(g).toMatchObject({ count: 3, min: 2, max: 4, firstStep: 1, lastStep: 3 });
    expect(g.points).toBe('0.0,0.0 50.0,50.0 100.0,25.0');
  });

  it('draws a flat curve across the middle', () => {
    expect(chartGeometry([1, 1, 1], BOX).points).toBe('0.0,25.0 50.0,25.0 100.0,25.0');
  });

  it('keeps step spacing where losses are missing', () => {
    const g = chartGeometry([undefined, 2, Number.NaN, Number.NaN, 1], BOX);
    expect(g).toMatchObject({ count: 2, firstStep: 2, lastStep: 5 });
    expect(g.points).toBe('0.0,0.0 100.0,50.0');
  });

  it('copes with long histories', () => {
    const losses = Array.from({ length: 200_000 }, (_, i) => 1 / (i + 1));
    const g = chartGeometry(losses, BOX);
    expect(g.count).toBe(200_000);
    expect(g.max).toBe(1);
  });
});
