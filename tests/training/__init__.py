"""The training service: the queue, a job's stages, datasets, restarts and crashes."""
