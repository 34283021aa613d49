from django import forms
from django.utils.translation import gettext_lazy as _
from i18nfield.forms import I18nModelForm

from tadamun.core.forms import DateInput, StyledFormMixin
from tadamun.organisations.models import Organisation
from tadamun.territories.models import Territory

from .models import Programme


class ProgrammeForm(StyledFormMixin, I18nModelForm):
    lead = forms.ModelChoiceField(
        label=_("lead organisation"), queryset=Organisation.objects.none()
    )
    funders = forms.ModelMultipleChoiceField(
        label=_("funders"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    implementers = forms.ModelMultipleChoiceField(
        label=_("implementing organisations"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    partners = forms.ModelMultipleChoiceField(
        label=_("partners"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    territories = forms.ModelMultipleChoiceField(
        label=_("territories"),
        queryset=Territory.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    class Meta:
        model = Programme
        fields = ["code", "title", "description", "status", "start", "end", "budget", "currency"]
        widgets = {"start": DateInput(), "end": DateInput()}

    def validate_unique(self):
        """The service checks that the code is free (through the access layer's unscoped
        read, since a code taken by a programme the user cannot see is still taken)."""

    def _get_validation_exclusions(self):
        """Leave the constraints on these fields (end after start, budget not negative) to the
        service, which puts its message next to the field at fault; the model's own check
        would only name the constraint, above the form."""
        return super()._get_validation_exclusions() | {"start", "end", "budget"}

    def __init__(self, *args, leads=None, **kwargs):
        super().__init__(*args, **kwargs)
        organisations = Organisation.objects.active().order_by("slug")
        for name in ("funders", "implementers", "partners"):
            self.fields[name].queryset = organisations
        self.fields["territories"].queryset = Territory.objects.order_by("path")
        if leads is None:
            del self.fields["lead"]
            del self.fields["code"]
        else:
            self.fields["lead"].queryset = leads
            self.order_fields(["code", "lead"])
