import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatLeft,
  notePace,
  secondsBetween,
  secondsLeft,
  stageWords,
  stepsCounting,
} from './stage';

describe('stageWords', () => {
  it('says each stage of a running job in words', () => {
    expect(stageWords('running', 'loading_data')).toBe('Loading the data…');
    expect(stageWords('running', 'loading_model')).toBe('Loading the model…');
    expect(stageWords('running', 'training')).toBe('Training');
    expect(stageWords('running', 'saving')).toBe('Saving the adapter…');
  });

  it('says a running job without a stage is starting, and nothing for other states', () => {
    expect(stageWords('running', null)).toBe('Starting…');
    expect(stageWords('running', 'something_new')).toBe('Starting…');
    expect(stageWords('queued', null)).toBeUndefined();
    expect(stageWords('succeeded', 'saving')).toBeUndefined();
  });
});

describe('stepsCounting', () => {
  it('counts steps from training on, not while loading or queued', () => {
    expect(stepsCounting('running', 'loading_data', 0)).toBe(false);
    expect(stepsCounting('running', 'loading_model', 0)).toBe(false);
    expect(stepsCounting('running', 'training', 0)).toBe(true);
    expect(stepsCounting('running', 'saving', 2)).toBe(true);
    expect(stepsCounting('queued', null, 0)).toBe(false);
    expect(stepsCounting('succeeded', null, 2)).toBe(true);
  });

  it('falls back to the first step for a server without stages', () => {
    expect(stepsCounting('running', null, 0)).toBe(false);
    expect(stepsCounting('running', null, 1)).toBe(true);
  });
});

describe('formatDuration', () => {
  it('formats seconds, minutes and hours', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(8.4)).toBe('8 s');
    expect(formatDuration(59.4)).toBe('59 s');
    expect(formatDuration(60)).toBe('1 min 00 s');
    expect(formatDuration(125)).toBe('2 min 05 s');
    expect(formatDuration(3725)).toBe('1 h 02 min');
  });

  it('shows a dash for what is not a duration', () => {
    expect(formatDuration(undefined)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});

describe('secondsBetween', () => {
  it('measures between timestamps, or up to a time in ms', () => {
    expect(secondsBetween('2026-01-31T12:00:00.000000Z', '2026-01-31T12:01:05.500000Z')).toBe(65.5);
    expect(secondsBetween('2026-01-31T12:00:00Z', Date.parse('2026-01-31T12:00:14Z'))).toBe(14);
  });

  it('is undefined when a time is missing, unreadable or earlier', () => {
    expect(secondsBetween(null, '2026-01-31T12:00:00Z')).toBeUndefined();
    expect(secondsBetween('2026-01-31T12:00:00Z', null)).toBeUndefined();
    expect(secondsBetween('not a time', '2026-01-31T12:00:00Z')).toBeUndefined();
    expect(secondsBetween('2026-01-31T12:00:10Z', '2026-01-31T12:00:00Z')).toBeUndefined();
  });
});

describe('the estimate', () => {
  it('has none until two steps were seen', () => {
    const pace = notePace(undefined, 0, 1000);
    expect(secondsLeft(pace, 10, 1000)).toBeUndefined();
    expect(secondsLeft(undefined, 10, 1000)).toBeUndefined();
  });

  it('projects the pace so far over the steps left, counting down between steps', () => {
    let pace = notePace(undefined, 0, 0); // training began at t = 0
    pace = notePace(pace, 1, 2000); // 2 s a step
    pace = notePace(pace, 2, 4000);
    expect(secondsLeft(pace, 10, 4000)).toBe(16); // 8 steps left
    expect(secondsLeft(pace, 10, 7000)).toBe(13);
    expect(secondsLeft(pace, 10, 60_000)).toBe(0); // never below 0
    expect(secondsLeft(pace, null, 4000)).toBeUndefined();
  });

  it('ignores repeats of the same step and starts over when steps go back', () => {
    let pace = notePace(undefined, 3, 0);
    pace = notePace(pace, 4, 1000);
    expect(notePace(pace, 4, 5000)).toBe(pace);
    const restarted = notePace(pace, 0, 9000);
    expect(restarted).toEqual({ fromStep: 0, fromAt: 9000, step: 0, at: 9000 });
  });

  it('reads as words', () => {
    expect(formatLeft(130)).toBe('about 2 min 10 s left');
    expect(formatLeft(3)).toBe('almost done');
  });
});
