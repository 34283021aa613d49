import zoneinfo

from django.http import HttpResponseBadRequest, HttpResponseNotFound, JsonResponse
from django.utils import timezone, translation

from .i18n import language_for


class UserPreferencesMiddleware:
    """Speak the signed-in user's language and show times in their time zone.

    Times are stored in UTC; a user sees them in the zone they chose, or else in the zone of
    the organisation they work for, because that is where their calendar days begin.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language:
                language = language_for(user.language, user.country_code)
                translation.activate(language)
                request.LANGUAGE_CODE = language
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.effective_time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        response = self.get_response(request)
        if user is not None and user.is_authenticated and user.language:
            response.headers.setdefault("Content-Language", user.language)
        return response


class RejectNulMiddleware:
    """No code, slug or search text holds a NUL character, and PostgreSQL refuses a query
    holding one instead of finding nothing: answer such a path 404 and such a query string
    400 before any view runs. (Form and API fields refuse NUL through their validators.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            return HttpResponseNotFound()
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                message = "Null characters are not allowed."
                if request.path.startswith("/api/"):
                    return JsonResponse({name.replace("\x00", ""): [message]}, status=400)
                return HttpResponseBadRequest(message)
        return self.get_response(request)
