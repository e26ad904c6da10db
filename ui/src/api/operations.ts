/** The GraphQL operations the app sends, and the shapes of their answers: the types are generated from the
 * pinned schema (generated.ts, `just codegen`); the names here are the ones the app uses. */
import type {
  AdaptersQuery,
  ChatSubscription,
  DatasetPreviewQuery,
  DatasetsQuery,
  JobsQuery,
  LoadMutation,
  ProgressSubscription,
  StartMutation,
  StartMutationVariables,
  StatusQuery,
  UploadDatasetMutation,
} from './generated';

export type { ChatMessageInput, ChatRole } from './generated';

/** A chunk of `inferStream`: a token, or (seq -1, token '') a progress event whose `stage` says SEARCHING or
 * GENERATING before the tokens. */
export type TokenChunk = ChatSubscription['inferStream'];
export type Source = NonNullable<TokenChunk['sources']>[number];

export type StatusData = StatusQuery;
export type Access = StatusQuery['access'];
export type ModelInfo = StatusQuery['modelInfo'];
export type AdaptersInfo = AdaptersQuery['adapters'];
export type AdapterInfo = AdaptersInfo['adapters'][number];
/** The outcome of loadAdapter and deleteAdapter. */
export type AdapterResult = LoadMutation['loadAdapter'];

/** startFineTune's outcome; `errorField` is the argument the error is about (adapterName, learningRate, ...). */
export type FineTuneResult = StartMutation['startFineTune'];
export type FineTuneInput = StartMutationVariables;
export type FineTuneJob = JobsQuery['fineTuneJobs'][number];
/** The evaluation loss at one evaluation, step 0 being the base model's. */
export type EvalPoint = FineTuneJob['evalHistory'][number];
export type FineTuneProgress = ProgressSubscription['fineTuneProgress'];

/** An uploaded training set; `format` is "chat" | "sharegpt" | "prompt_completion" | "alpaca". */
export type Dataset = DatasetsQuery['datasets'][number];
export type DatasetPreview = NonNullable<DatasetPreviewQuery['dataset']>;
/** A row of a dataset: its line in the file (1-based) and its turns (role: system | user | assistant). */
export type DatasetRow = DatasetPreview['preview'][number];
export type DatasetTurn = DatasetRow['messages'][number];
/** The outcome of uploadDataset and deleteDataset; `errorField` is the argument the error is about (name, file). */
export type DatasetResult = UploadDatasetMutation['uploadDataset'];

export const INFER_STREAM = /* GraphQL */ `
  subscription Chat($prompt: String!, $messages: [ChatMessageInput!], $webSearch: Boolean, $adapter: String,
                    $baseModel: Boolean, $maxNewTokens: Int, $temperature: Float, $requestId: String) {
    inferStream(prompt: $prompt, messages: $messages, webSearch: $webSearch, adapter: $adapter,
                baseModel: $baseModel, maxNewTokens: $maxNewTokens, temperature: $temperature, requestId: $requestId) {
      token done seq requestId finishReason
      usage { promptTokens completionTokens }
      sources { title url }
      searchNotice
      stage
    }
  }
`;

/** The rest of a generation, from chunk `fromSeq` on (replayed from the server's TOKENS stream, then live). */
export const INFER_RESUME = /* GraphQL */ `
  subscription Resume($requestId: String!, $fromSeq: Int) {
    inferResume(requestId: $requestId, fromSeq: $fromSeq) {
      token done seq requestId finishReason
      usage { promptTokens completionTokens }
    }
  }
`;

/** What the header and the model lists need, in one round trip. */
export const STATUS = /* GraphQL */ `
  query Status {
    access { role keysRequired }
    modelInfo { modelId device dtype loadIn4bit contextLength state activeAdapter vramTotalMb vramUsedMb }
    adapters {
      available active
      adapters { name baseModel created dataset steps finalLoss sizeBytes jobId loraR loraAlpha }
    }
  }
`;

export const ADAPTERS = /* GraphQL */ `
  query Adapters {
    adapters {
      available active
      adapters { name baseModel created dataset steps finalLoss sizeBytes jobId loraR loraAlpha }
    }
  }
`;

export const LOAD_ADAPTER = /* GraphQL */ `
  mutation Load($name: String!) { loadAdapter(adapterName: $name) { ok error activeAdapter errorCode } }
`;

export const USE_BASE_MODEL = /* GraphQL */ `
  mutation Unload { useBaseModel { ok error activeAdapter } }
`;

export const DELETE_ADAPTER = /* GraphQL */ `
  mutation Delete($name: String!) { deleteAdapter(adapterName: $name) { ok error activeAdapter errorCode } }
`;

export const START_FINE_TUNE = /* GraphQL */ `
  mutation Start($adapterName: String!, $datasetName: String, $numSamples: Int, $numEpochs: Float,
                 $learningRate: Float, $loraR: Int, $loraAlpha: Int, $maxSteps: Int,
                 $validationDataset: String, $validationFraction: Float, $evalEverySteps: Int,
                 $earlyStoppingPatience: Int, $checkpointEverySteps: Int) {
    startFineTune(adapterName: $adapterName, datasetName: $datasetName, numSamples: $numSamples,
                  numEpochs: $numEpochs, learningRate: $learningRate, loraR: $loraR, loraAlpha: $loraAlpha,
                  maxSteps: $maxSteps, validationDataset: $validationDataset,
                  validationFraction: $validationFraction, evalEverySteps: $evalEverySteps,
                  earlyStoppingPatience: $earlyStoppingPatience, checkpointEverySteps: $checkpointEverySteps) {
      ok error jobId queuePosition errorCode errorField
    }
  }
`;

export const CANCEL_FINE_TUNE = /* GraphQL */ `
  mutation Cancel($jobId: String!) { cancelFineTune(jobId: $jobId) { ok error jobId errorCode } }
`;

export const DELETE_FINE_TUNE_JOB = /* GraphQL */ `
  mutation Forget($jobId: String!) { deleteFineTuneJob(jobId: $jobId) { ok error jobId errorCode } }
`;

export const FINE_TUNE_JOBS = /* GraphQL */ `
  query Jobs {
    fineTuneJobs {
      jobId adapterName dataset state step totalSteps lossHistory finalLoss error adapter queuePosition
      created started finished device numSamples numEpochs learningRate loraR loraAlpha maxSteps stage
      validationDataset validationFraction evalEverySteps earlyStoppingPatience checkpointEverySteps
      evalHistory { step loss } bestStep trainRows validationRows heldOutPrompts resumedFromStep
    }
  }
`;

export const FINE_TUNE_PROGRESS = /* GraphQL */ `
  subscription Progress($jobId: String!) {
    fineTuneProgress(jobId: $jobId) {
      jobId state step totalSteps loss queuePosition error adapter stage evalLoss bestStep
    }
  }
`;

export const FINISHED_STATES = new Set(['succeeded', 'failed', 'cancelled']);

export const DATASETS = /* GraphQL */ `
  query Datasets { datasets { name format rows tokens sizeBytes createdAt } }
`;

/** One dataset with its first rows as turns; null when there is none by that name. */
export const DATASET_PREVIEW = /* GraphQL */ `
  query DatasetPreview($name: String!, $first: Int) {
    dataset(name: $name) { name format rows tokens sizeBytes createdAt preview(first: $first) { line messages { role content } } }
  }
`;

/** Sent as a GraphQL multipart request (see `upload` in http.ts): `file` travels as the request's part "0". */
export const UPLOAD_DATASET = /* GraphQL */ `
  mutation UploadDataset($name: String!, $file: Upload!) {
    uploadDataset(name: $name, file: $file) { ok error errorCode errorField dataset { name format rows tokens sizeBytes createdAt } }
  }
`;

export const DELETE_DATASET = /* GraphQL */ `
  mutation DeleteDataset($name: String!) {
    deleteDataset(name: $name) { ok error errorCode errorField dataset { name format rows tokens sizeBytes createdAt } }
  }
`;
