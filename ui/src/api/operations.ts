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
                    $baseModel: Boolean, $maxNewTokens: Int, $requestId: String) {
    inferStream(prompt: $prompt, messages: $messages, webSearch: $webSearch, adapter: $adapter,
                baseModel: $baseModel, maxNewTokens: $maxNewTokens, requestId: $requestId) {
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
}

export const START_FINE_TUNE = /* GraphQL */ `
  mutation Start($adapterName: String!, $datasetName: String, $numSamples: Int, $numEpochs: Float,
                 $learningRate: Float, $loraR: Int, $loraAlpha: Int, $maxSteps: Int) {
    startFineTune(adapterName: $adapterName, datasetName: $datasetName, numSamples: $numSamples,
                  numEpochs: $numEpochs, learningRate: $learningRate, loraR: $loraR, loraAlpha: $loraAlpha,
                  maxSteps: $maxSteps) {
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
  /** while running: 'loading_data', 'loading_model', 'training' or 'saving'; null otherwise (or an older server) */
  stage?: string | null;
}

export const FINE_TUNE_JOBS = /* GraphQL */ `
  query Jobs {
    fineTuneJobs {
      jobId adapterName dataset state step totalSteps lossHistory finalLoss error adapter queuePosition
      created started finished device numSamples numEpochs learningRate loraR loraAlpha stage
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
}

export const FINE_TUNE_PROGRESS = /* GraphQL */ `
  subscription Progress($jobId: String!) {
    fineTuneProgress(jobId: $jobId) { jobId state step totalSteps loss queuePosition error adapter stage }
  }
`;

export const FINISHED_STATES = new Set(['succeeded', 'failed', 'cancelled']);
