/** The words the training form shows for a job the server refused. The server writes for every API caller (it names
 * the GraphQL argument, as in "`datasetName` names no file…"); beside the field, the form says it in plain words,
 * and for a dataset that does not exist, which ones do. */
import type { FineTuneResult } from '../api/operations';

const DATASET_FIELDS: ReadonlySet<string> = new Set(['datasetName', 'validationDataset']);

/** What to show for `result` (refused): `asked` is the value the refused field had, `uploaded` the datasets' names. */
export function refusalWords(
  result: Pick<FineTuneResult, 'error' | 'errorCode' | 'errorField'>,
  asked: string | undefined,
  uploaded: readonly string[],
): string {
  const field = result.errorField ?? '';
  if (DATASET_FIELDS.has(field) && result.errorCode === 'NOT_FOUND' && asked) {
    const choices = ['bundled (the shipped set)', ...uploaded].join(', ');
    return `There is no dataset “${asked}”. Pick one from the list: ${choices}. Or upload the file under Datasets.`;
  }
  return (result.error ?? 'the server refused the job').replace(/^`[A-Za-z]+` /, '');
}
