/** The GraphQL operations the app sends, and the shapes of their answers. */

export interface Source {
  title: string;
  url: string;
}

export interface TokenChunk {
  token: string;
  done: boolean;
  seq: number;
  requestId: string;
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number } | null;
  sources: Source[] | null;
  searchNotice: string | null;
  /** 'SEARCHING' / 'GENERATING' on the progress events before the tokens (seq -1, token ''); null on tokens */
  stage: string | null;
}

export type ChatRole = 'SYSTEM' | 'USER' | 'ASSISTANT';

export interface ChatMessageInput {
  role: ChatRole;
  content: string;
}

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

export interface ModelInfo {
  modelId: string;
  device: string;
  dtype: string;
  loadIn4bit: boolean;
  contextLength: number;
  state: string;
  activeAdapter: string | null;
  vramTotalMb: number | null;
  vramUsedMb: number | null;
}

export interface AdapterInfo {
  name: string;
  baseModel: string;
  created: string;
  dataset: string;
  steps: number;
  finalLoss: number | null;
  sizeBytes: number;
  jobId: string | null;
  loraR: number | null;
  loraAlpha: number | null;
}

export interface AdaptersInfo {
  available: string[];
  active: string | null;
  adapters: AdapterInfo[];
}

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

export interface Access {
  role: 'admin' | 'user';
  keysRequired: boolean;
}

export interface StatusData {
  access: Access;
  modelInfo: ModelInfo;
  adapters: AdaptersInfo;
}

export const ADAPTERS = /* GraphQL */ `
  query Adapters {
    adapters {
      available active
      adapters { name baseModel created dataset steps finalLoss sizeBytes jobId loraR loraAlpha }
    }
  }
`;

export interface AdapterResult {
  ok: boolean;
  error: string | null;
  activeAdapter: string | null;
  errorCode: string | null;
}

export const LOAD_ADAPTER = /* GraphQL */ `
  mutation Load($name: String!) { loadAdapter(adapterName: $name) { ok error activeAdapter errorCode } }
`;

export const USE_BASE_MODEL = /* GraphQL */ `
  mutation Unload { useBaseModel { ok error activeAdapter } }
`;

export const DELETE_ADAPTER = /* GraphQL */ `
  mutation Delete($name: String!) { deleteAdapter(adapterName: $name) { ok error activeAdapter errorCode } }
`;

export interface FineTuneResult {
  ok: boolean;
  error: string | null;
  jobId: string | null;
  queuePosition: number | null;
  errorCode: string | null;
  /** startFineTune only: the argument the error is about (adapterName, learningRate, ...), else null */
  errorField?: string | null;
}

export interface FineTuneInput {
  adapterName: string;
  datasetName?: string | null;
  numSamples?: number | null;
  numEpochs?: number | null;
  learningRate?: number | null;
  loraR?: number | null;
  loraAlpha?: number | null;
  maxSteps?: number | null;
  /** an uploaded dataset to evaluate on; absent: none (a split of the training set, if any) */
  validationDataset?: string;
  /** the share of the training rows held out for evaluation (0 to 0.5); absent: the server's default */
  validationFraction?: number;
  evalEverySteps?: number;
  earlyStoppingPatience?: number;
  checkpointEverySteps?: number;
}

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

export interface FineTuneJob {
  jobId: string;
  adapterName: string;
  dataset: string;
  state: string;
  step: number;
  totalSteps: number | null;
  lossHistory: number[];
  finalLoss: number | null;
  error: string | null;
  adapter: string | null;
  queuePosition: number | null;
  created: string;
  started: string | null;
  finished: string | null;
  device: string | null;
  numSamples: number | null;
  numEpochs: number;
  learningRate: number;
  loraR: number;
  loraAlpha: number;
  /** the cap on steps it was given (null: none; absent from an older server) */
  maxSteps?: number | null;
  /** while running: 'loading_data', 'loading_model', 'training' or 'saving'; null otherwise (or an older server) */
  stage?: string | null;
  validationDataset?: string | null;
  validationFraction?: number | null;
  evalEverySteps?: number | null;
  earlyStoppingPatience?: number | null;
  checkpointEverySteps?: number | null;
  /** the evaluation loss at each evaluation, step 0 being the base model's */
  evalHistory?: EvalPoint[];
  /** the step whose evaluation loss was the lowest (the adapter saved is that step's), when there were evaluations */
  bestStep?: number | null;
  trainRows?: number | null;
  validationRows?: number | null;
  /** questions from the held-out rows, for comparing the adapter with the base model */
  heldOutPrompts?: string[];
  resumedFromStep?: number | null;
}

export interface EvalPoint {
  step: number;
  loss: number;
}

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

export interface FineTuneProgress {
  jobId: string;
  state: string;
  step: number;
  totalSteps: number | null;
  loss: number | null;
  queuePosition: number | null;
  error: string | null;
  adapter: string | null;
  /** as FineTuneJob.stage */
  stage?: string | null;
  /** the evaluation loss, on the events where an evaluation ran (step 0: the base model) */
  evalLoss?: number | null;
  bestStep?: number | null;
}

export const FINE_TUNE_PROGRESS = /* GraphQL */ `
  subscription Progress($jobId: String!) {
    fineTuneProgress(jobId: $jobId) {
      jobId state step totalSteps loss queuePosition error adapter stage evalLoss bestStep
    }
  }
`;

export const FINISHED_STATES = new Set(['succeeded', 'failed', 'cancelled']);

/** An uploaded training set: "chat" | "sharegpt" | "prompt_completion" | "alpaca". */
export interface Dataset {
  name: string;
  format: string;
  rows: number;
  tokens: number;
  sizeBytes: number;
  createdAt: string;
}

export interface DatasetTurn {
  /** system | user | assistant */
  role: string;
  content: string;
}

export interface DatasetRow {
  /** its line in the file (1-based) */
  line: number;
  messages: DatasetTurn[];
}

export interface DatasetPreview extends Dataset {
  preview: DatasetRow[];
}

export interface DatasetResult {
  ok: boolean;
  error: string | null;
  errorCode: string | null;
  /** the argument the error is about (name, file), else null */
  errorField: string | null;
  dataset: Dataset | null;
}

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
