"""A person's timeline, assembled from every capability that has something to say.

Each capability registers a provider in its AppConfig.ready(): a function
``provider(*, user, person) -> list[TimelineEntry]`` returning only what the user may see.
The person page shows the merged list, newest first; the registry does not need to know
which capabilities exist.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class TimelineEntry:
    when: datetime.date
    kind: str
    label: str
    detail: str = ""
    url: str = ""


_providers: list[Callable] = []


def register(provider: Callable) -> None:
    if provider not in _providers:
        _providers.append(provider)


def timeline(*, user, person, limit: int = 100) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for provider in _providers:
        entries.extend(provider(user=user, person=person))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]
