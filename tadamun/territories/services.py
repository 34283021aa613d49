from django.db import transaction
from django.utils.translation import gettext as _

from tadamun.core.errors import DomainError

from .models import Territory


@transaction.atomic
def territory_save(*, territory: Territory, reason: str = "") -> Territory:
    """Create or change a territory, keeping the paths of everything below it true."""
    if territory.parent_id:
        parent = Territory.objects.get(pk=territory.parent_id)
        if territory.pk and parent.path.startswith(Territory.objects.get(pk=territory.pk).path):
            raise DomainError({"parent": _("A territory cannot be placed inside itself.")})
    old_path = Territory.objects.filter(pk=territory.pk).values_list("path", flat=True).first()
    territory.full_clean()
    territory.compute_path()
    territory._change_reason = reason
    territory.save()
    if old_path and old_path != territory.path:
        for child in Territory.objects.filter(parent=territory):
            territory_save(territory=child, reason=reason)
    return territory
