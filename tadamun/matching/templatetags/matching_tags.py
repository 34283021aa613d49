from django import template

from ..selectors import person_merges as _person_merges
from ..services import may_review

register = template.Library()


@register.filter
def may_review_duplicates(user) -> bool:
    """Whether the navigation offers the review of duplicates."""
    return bool(user and user.is_authenticated and may_review(user))


@register.simple_tag(takes_context=True)
def person_merges(context, person):
    """The merges into this person still in force, and where the person went if merged."""
    return _person_merges(context["request"].user, person)
