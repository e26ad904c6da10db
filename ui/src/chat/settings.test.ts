import { describe, expect, it } from 'vitest';
import {
  customized,
  DEFAULT_SETTINGS,
  generationArgs,
  parseMaxNewTokens,
  parseTemperature,
  settingsFrom,
  withSystemPrompt,
} from './settings';

describe('parsing typed settings', () => {
  it('reads an empty box as the server default', () => {
    expect(parseMaxNewTokens('  ')).toEqual({ value: null });
    expect(parseTemperature('')).toEqual({ value: null });
  });

  it('takes whole token counts from 1 to 8192 and temperatures from 0 to 5', () => {
    expect(parseMaxNewTokens('64')).toEqual({ value: 64 });
    expect(parseMaxNewTokens('0')).toHaveProperty('error');
    expect(parseMaxNewTokens('8193')).toHaveProperty('error');
    expect(parseMaxNewTokens('2.5')).toHaveProperty('error');
    expect(parseTemperature('0.7')).toEqual({ value: 0.7 });
    expect(parseTemperature('5.1')).toHaveProperty('error');
    expect(parseTemperature('-1')).toHaveProperty('error');
    expect(parseTemperature('warm')).toHaveProperty('error');
  });
});

describe('settings from storage', () => {
  it('gives a conversation saved before settings existed the defaults', () => {
    expect(settingsFrom(undefined)).toEqual(DEFAULT_SETTINGS);
  });

  it('keeps valid values and drops the rest', () => {
    expect(settingsFrom({ maxNewTokens: 40, temperature: 9, systemPrompt: 'Be brief.' })).toEqual({
      maxNewTokens: 40,
      temperature: null,
      systemPrompt: 'Be brief.',
    });
  });
});

describe('what a request carries', () => {
  it('puts the system prompt first, with role system', () => {
    const history = [{ role: 'USER' as const, content: 'Hi' }];
    expect(withSystemPrompt({ ...DEFAULT_SETTINGS, systemPrompt: ' Be brief. ' }, history)).toEqual([
      { role: 'SYSTEM', content: 'Be brief.' },
      { role: 'USER', content: 'Hi' },
    ]);
    expect(withSystemPrompt(DEFAULT_SETTINGS, [])).toBeNull();
  });

  it('leaves defaults out of the arguments', () => {
    expect(generationArgs(DEFAULT_SETTINGS)).toEqual({});
    expect(generationArgs({ ...DEFAULT_SETTINGS, maxNewTokens: 8, temperature: 0 })).toEqual({ maxNewTokens: 8, temperature: 0 });
    expect(customized(DEFAULT_SETTINGS)).toBe(false);
    expect(customized({ ...DEFAULT_SETTINGS, temperature: 0 })).toBe(true);
  });
});
