import { describe, expect, it } from 'vitest';
import { refusalWords } from './refusal';

describe('refusalWords', () => {
  it('says which datasets exist when the one asked for does not, without the API’s names', () => {
    const result = {
      error: "`datasetName` names no file in the dataset folder (DATASET_DIR): 'walk.jsonl'; use an uploaded dataset's name (uploadDataset), …",
      errorCode: 'NOT_FOUND',
      errorField: 'datasetName',
    };
    const words = refusalWords(result, 'walk.jsonl', ['walks', 'runs']);
    expect(words).toBe(
      'There is no dataset “walk.jsonl”. Pick one from the list: bundled (the shipped set), walks, runs. Or upload the file under Datasets.',
    );
    expect(words).not.toMatch(/`|DATASET_DIR|uploadDataset/);
  });

  it('drops the argument’s name the server starts with (the words show beside that field)', () => {
    const result = { error: '`learningRate` must be at most 1', errorCode: 'BAD_REQUEST', errorField: 'learningRate' };
    expect(refusalWords(result, '2', [])).toBe('must be at most 1');
  });
});
