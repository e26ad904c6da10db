"""`python -m services.inference`: run one inference worker."""

from services.runtime import main

from .service import InferenceActor

main(InferenceActor)
