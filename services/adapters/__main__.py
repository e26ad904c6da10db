"""`python -m services.adapters`: run the adapter registry."""

from services.runtime import main

from .service import AdaptersActor

main(AdaptersActor)
