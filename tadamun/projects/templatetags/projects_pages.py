"""Micro-projects shown on pages of other capabilities (the group page)."""

from django import template

from ..models import Application
from ..selectors import visible_projects

register = template.Library()


@register.simple_tag(takes_context=True)
def group_projects(context, group, limit: int = 20) -> dict:
    """The collective's applications and financed projects the user may see."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or group is None:
        return {"applications": [], "projects": []}
    applications = (
        Application.objects.visible_to(user)
        .filter(group=group, archived_at__isnull=True)
        .select_related("call")
        .order_by("-submitted_on", "-pk")[:limit]
    )
    projects = (
        visible_projects(user)
        .filter(group=group)
        .select_related("sector")
        .order_by("-financed_on", "-pk")[:limit]
    )
    return {"applications": list(applications), "projects": list(projects)}
