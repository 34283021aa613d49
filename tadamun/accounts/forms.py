import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import User

_ZONES = sorted(
    z for z in zoneinfo.available_timezones() if z.startswith(("Africa/", "Europe/", "Asia/"))
)


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("time zone"),
        required=False,
        choices=[("", _("Time zone of my organisation"))] + [(z, z) for z in _ZONES],
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language", "time_zone"]
