from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class ReadOnlyDirectory(BasePermission):
    message = _("This list can only be read through the API.")

    def has_permission(self, request, view):
        return request.method in ("GET", "HEAD", "OPTIONS")
