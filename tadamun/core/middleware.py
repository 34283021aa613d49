import zoneinfo

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
