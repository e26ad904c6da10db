"""`python -m services.search`: run one search worker."""

from services.runtime import main

from .service import SearchActor

main(SearchActor)
