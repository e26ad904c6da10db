import { describe, expect, it } from 'vitest';
import {
  adapterNameProblem,
  datasetProblem,
  DEFAULT_VALUES,
  NUMBER_RULES,
  parseNumber,
  validate,
  type FormValues,
} from './validate';

// fields.AdapterName, the server's pattern, copied to check the client's rules against it
const SERVER_NAME = /^(?!.*\.\.)[A-Za-z0-9_-](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?$/;

describe('adapterNameProblem', () => {
  it.each(['a', 'my-lora_v1.2', 'A.b.C', '_x', '-', '9', 'x'.repeat(64)])('accepts %j', (name) => {
    expect(adapterNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', /enter a name/i],
    ['x'.repeat(65), /at most 64 characters \(this has 65\)/],
    ['.hidden', /start with a dot/],
    ['trailing.', /end with a dot/],
    ['a..b', /'\.\.'/],
    ['sp ace', /not spaces/],
    ['x/y', /not '\/'/],
    ['../x', /not '\/'/],
    ['é', /not 'é'/],
    ['name\n', /letters, digits/],
  ])('refuses %j', (name, message) => {
    expect(adapterNameProblem(name)).toMatch(message);
  });

  it('agrees with the server pattern on many generated names', () => {
    const alphabet = ['a', 'Z', '0', '.', '_', '-', ' ', '/', 'é'];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 3000; i += 1) {
      const length = Math.floor(random() * 70);
      const name = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      expect(adapterNameProblem(name) === undefined, JSON.stringify(name)).toBe(SERVER_NAME.test(name));
    }
  });
});

describe('datasetProblem', () => {
  it.each(['', 'bundled', 'BUNDLED', ' bundled ', 'switchboard-instruct', 'tatsu-lab/alpaca', 'squad', './data.jsonl',
    '/no/such/file.jsonl', '~/sets/mine.JSON'])('accepts %j (existence is checked by the server)', (dataset) => {
    expect(datasetProblem(dataset)).toBeUndefined();
  });

  it.each([
    ['/etc/hostname', /\.json or \.jsonl/],
    ['../../etc/passwd', /\.json or \.jsonl/],
    ['C:\\data\\set.txt', /\.json or \.jsonl/],
    ['not a dataset!', /not a dataset name/i],
    ['a/b/c', /not a dataset name/i],
    ['org/..x', /not a dataset name/i],
    ['x'.repeat(1025), /at most 1024/],
  ])('refuses %j', (dataset, message) => {
    expect(datasetProblem(dataset)).toMatch(message);
  });
});

describe('parseNumber', () => {
  const samples = NUMBER_RULES.numSamples;
  const lr = NUMBER_RULES.learningRate;

  it('reads empty as "use the default"', () => {
    expect(parseNumber('', samples)).toEqual({ value: null });
    expect(parseNumber('   ', lr)).toEqual({ value: null });
  });

  it.each([
    ['8', samples, 8],
    [' 100000 ', samples, 100_000],
    ['1e3', samples, 1000],
    ['8.0', samples, 8],
    ['2e-4', lr, 0.0002],
    ['.5', lr, 0.5],
    ['1', lr, 1],
  ])('reads %j', (text, rule, value) => {
    expect(parseNumber(text, rule)).toEqual({ value });
  });

  it.each([
    ['NaN', lr, /enter a number/i],
    ['nan', lr, /enter a number/i],
    ['Infinity', lr, /enter a number/i],
    ['abc', samples, /enter a number/i],
    ['0x10', samples, /enter a number/i],
    ['1,5', lr, /enter a number/i],
    ['0', lr, /more than 0/],
    ['-0.001', lr, /more than 0/],
    ['1e-400', lr, /more than 0/],
    ['5', lr, /at most 1/],
    ['1e999', lr, /at most 1/],
    ['-1e999', lr, /more than 0/],
    ['0', samples, /at least 1/],
    ['-5', samples, /at least 1/],
    ['100001', samples, /at most 100,000/],
    ['1.5', samples, /whole number/],
    ['1e999', samples, /at most 100,000/],
  ])('refuses %j', (text, rule, message) => {
    const parsed = parseNumber(text, rule);
    expect('error' in parsed && parsed.error).toMatch(message);
  });

  it("uses FineTuneSpec's limits", () => {
    expect(parseNumber('100', NUMBER_RULES.numEpochs)).toEqual({ value: 100 });
    expect(parseNumber('100.5', NUMBER_RULES.numEpochs)).toHaveProperty('error');
    expect(parseNumber('0.25', NUMBER_RULES.numEpochs)).toEqual({ value: 0.25 });
    expect(parseNumber('256', NUMBER_RULES.loraR)).toEqual({ value: 256 });
    expect(parseNumber('257', NUMBER_RULES.loraR)).toHaveProperty('error');
    expect(parseNumber('1024', NUMBER_RULES.loraAlpha)).toEqual({ value: 1024 });
    expect(parseNumber('1025', NUMBER_RULES.loraAlpha)).toHaveProperty('error');
    expect(parseNumber('1000000', NUMBER_RULES.maxSteps)).toEqual({ value: 1_000_000 });
    expect(parseNumber('1000001', NUMBER_RULES.maxSteps)).toHaveProperty('error');
    expect(parseNumber('0', NUMBER_RULES.maxSteps)).toHaveProperty('error');
  });
});

describe('validate', () => {
  const form = (changes: Partial<FormValues>): FormValues => ({ ...DEFAULT_VALUES, ...changes });

  it('turns the defaults and a name into the mutation variables (bundled as null)', () => {
    expect(validate(form({ adapterName: 'my-lora' }))).toEqual({
      errors: {},
      input: {
        adapterName: 'my-lora',
        datasetName: null,
        numSamples: null,
        numEpochs: 1,
        learningRate: 0.0002,
        loraR: 8,
        loraAlpha: 16,
        maxSteps: null,
      },
    });
  });

  it('sends a chosen dataset trimmed and the numbers given', () => {
    const { input } = validate(
      form({ adapterName: 'x', datasetName: ' tatsu-lab/alpaca ', numSamples: '8', maxSteps: '3', numEpochs: '' }),
    );
    expect(input).toMatchObject({ datasetName: 'tatsu-lab/alpaca', numSamples: 8, maxSteps: 3, numEpochs: null });
  });

  it('reports every bad field and gives no variables', () => {
    const result = validate(
      form({ adapterName: 'a..b', datasetName: '/etc/hostname', learningRate: 'NaN', loraR: '0', numSamples: '1e9' }),
    );
    expect(result.input).toBeUndefined();
    expect(Object.keys(result.errors).sort()).toEqual(
      ['adapterName', 'datasetName', 'learningRate', 'loraR', 'numSamples'].sort(),
    );
  });
});

describe('the evaluation settings', () => {
  const form = (changes: Partial<FormValues>): FormValues => ({ ...DEFAULT_VALUES, adapterName: 'x', ...changes });

  it('take a fraction from 0 to 0.5 and whole steps from 1', () => {
    expect(parseNumber('0', NUMBER_RULES.validationFraction)).toEqual({ value: 0 });
    expect(parseNumber('0.5', NUMBER_RULES.validationFraction)).toEqual({ value: 0.5 });
    expect(parseNumber('0.51', NUMBER_RULES.validationFraction)).toEqual({ error: 'Use at most 0.5.' });
    expect(parseNumber('-0.1', NUMBER_RULES.validationFraction)).toEqual({ error: 'Must be at least 0.' });
    expect(parseNumber('1', NUMBER_RULES.evalEverySteps)).toEqual({ value: 1 });
    expect(parseNumber('0', NUMBER_RULES.checkpointEverySteps)).toEqual({ error: 'Must be at least 1.' });
    expect(parseNumber('2.5', NUMBER_RULES.earlyStoppingPatience)).toEqual({ error: 'Enter a whole number.' });
  });

  it('are left out of the variables when empty (the server decides), never sent as null', () => {
    const { input } = validate(form({}));
    expect(input).not.toHaveProperty('validationFraction');
    expect(input).not.toHaveProperty('validationDataset');
    expect(input).not.toHaveProperty('evalEverySteps');
    expect(input).toHaveProperty('maxSteps', null); // the older settings keep sending null for "default"
  });

  it('are sent when given', () => {
    const { input } = validate(
      form({ validationFraction: '0.25', evalEverySteps: '5', earlyStoppingPatience: '2', checkpointEverySteps: '50' }),
    );
    expect(input).toMatchObject({
      validationFraction: 0.25,
      evalEverySteps: 5,
      earlyStoppingPatience: 2,
      checkpointEverySteps: 50,
    });
  });
});

describe('a validation dataset and a fraction', () => {
  it('are refused together, as the training service does', () => {
    const both = validate({ ...DEFAULT_VALUES, adapterName: 'x', validationDataset: 'held', validationFraction: '0.2' });
    expect(both.input).toBeUndefined();
    expect(both.errors.validationFraction).toMatch(/not both/);
    expect(validate({ ...DEFAULT_VALUES, adapterName: 'x', validationDataset: 'held' }).input).toMatchObject({
      validationDataset: 'held',
    });
  });
});

describe('early stopping', () => {
  const form = (changes: Partial<FormValues>): FormValues => ({ ...DEFAULT_VALUES, adapterName: 'x', ...changes });
  it('is refused with nothing held out (a fraction of 0 and no validation dataset), as the service does', () => {
    expect(validate(form({ earlyStoppingPatience: '2', validationFraction: '0' })).errors.earlyStoppingPatience).toMatch(
      /held-out rows/,
    );
    expect(validate(form({ earlyStoppingPatience: '2' })).input).toMatchObject({ earlyStoppingPatience: 2 });
    expect(validate(form({ earlyStoppingPatience: '2', validationFraction: '0.1' })).input).toBeDefined();
    expect(validate(form({ earlyStoppingPatience: '2', validationDataset: 'held' })).input).toBeDefined();
  });
});
