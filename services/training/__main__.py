"""`python -m services.training`: run one training worker."""

from services.runtime import main

from .service import TrainingActor

main(TrainingActor)
