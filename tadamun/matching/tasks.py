"""The batch job in the background: probable duplicate people across the registry."""

from django_tasks import task

from .batch import registry_duplicates


@task()
def find_duplicate_people() -> dict:
    """Run the batch deduplication over every current person of the registry.

    The result lists person ids of the whole registry: whoever shows it for review must pass
    them through the access layer (``Person.objects.visible_to(reviewer)``) first."""
    result = registry_duplicates()
    return {
        "records": len(result.ids),
        "people": result.unique_people,
        "threshold": result.threshold,
        "groups": result.groups(),
        "pairs": [[a, b, round(p, 4)] for a, b, p in result.pairs],
    }


@task()
def duplicate_run_task(run_id: int) -> None:
    """A search for duplicates started from the review page: score the registry and keep
    the pairs the person who started it may see."""
    from .services import duplicate_run_execute

    duplicate_run_execute(run_id=run_id)
