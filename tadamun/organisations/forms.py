import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _
from i18nfield.forms import I18nModelForm

from tadamun.core.forms import StyledFormMixin
from tadamun.territories.models import Territory

from .models import NetworkRole, Organisation

_ZONES = sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith("Etc"))


class OrganisationForm(StyledFormMixin, I18nModelForm):
    territory = forms.ModelChoiceField(
        label=_("territory"), queryset=Territory.objects.none(), required=False
    )
    time_zone = forms.ChoiceField(label=_("time zone"), choices=[(z, z) for z in _ZONES])
    role = forms.ChoiceField(
        label=_("role in the network"), choices=NetworkRole.choices, initial=NetworkRole.MEMBER
    )
    joined_on = forms.DateField(
        label=_("joined on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = Organisation
        fields = ["slug", "name", "short_name", "kind", "country", "territory", "time_zone"]

    def __init__(self, *args, joining=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = Territory.objects.order_by("path")
        self.fields["territory"].label_from_instance = lambda t: "\u2003" * t.depth + str(t)
        if not joining:
            for name in ("role", "joined_on", "slug"):
                del self.fields[name]

    def validate_unique(self):
        """The service reports a taken code next to the field."""
