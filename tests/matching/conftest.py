import pytest

from tadamun.matching import lookup


@pytest.fixture(autouse=True)
def fresh_catalogue():
    """Each test starts with its own database: the lookup's catalogue of spellings too."""
    lookup.reset_catalogue()
    yield
    lookup.reset_catalogue()
