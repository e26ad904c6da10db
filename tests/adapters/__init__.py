"""The adapter registry (`svc.adapters.*`): register, list, activate, delete; bad input; a restart."""
