from django import forms
from django.utils.translation import gettext_lazy as _

from tadamun.accounts.models import User
from tadamun.core.forms import DateInput, StyledFormMixin
from tadamun.organisations.models import Organisation

from .models import (
    ActionStatus,
    CaseNote,
    CaseOutcome,
    ContractType,
    Desk,
    NeedLevel,
    PathwayAction,
    Situation,
)


class VersionedForm(StyledFormMixin, forms.Form):
    """Carries the case version the user saw, so a concurrent change is detected."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class IntakeForm(StyledFormMixin, forms.Form):
    desk = forms.ModelChoiceField(label=_("desk"), queryset=Desk.objects.none())
    reason = forms.CharField(label=_("reason for coming"), required=False, max_length=300)
    open_case = forms.BooleanField(label=_("Open a case now"), required=False)

    def __init__(self, *args, desks=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["desk"].queryset = desks


class CaseOpenForm(StyledFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("lead organisation"), queryset=Organisation.objects.none()
    )
    desk = forms.ModelChoiceField(label=_("desk"), queryset=Desk.objects.none(), required=False)
    tutor = forms.ModelChoiceField(label=_("tutor"), queryset=User.objects.none(), required=False)
    opened_on = forms.DateField(label=_("opened on"), widget=DateInput(), required=False)

    def __init__(self, *args, organisations=None, desks=None, tutors=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["desk"].queryset = desks
        self.fields["tutor"].queryset = tutors


class DiagnosisForm(VersionedForm):
    diagnosed_on = forms.DateField(label=_("date of the diagnosis"), widget=DateInput())
    summary = forms.CharField(
        label=_("summary"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, dimensions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.dimensions = list(dimensions)
        for dimension in self.dimensions:
            self.fields[f"level_{dimension.pk}"] = forms.TypedChoiceField(
                label=str(dimension),
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "—"), *NeedLevel.choices],
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            self.fields[f"note_{dimension.pk}"] = forms.CharField(
                label=_("note"),
                required=False,
                max_length=500,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )

    def levels(self) -> dict:
        return {
            d: (self.cleaned_data[f"level_{d.pk}"], self.cleaned_data.get(f"note_{d.pk}", ""))
            for d in self.dimensions
            if self.cleaned_data.get(f"level_{d.pk}") is not None
        }


class ActionForm(StyledFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = PathwayAction
        fields = [
            "action_type",
            "status",
            "start",
            "end",
            "extended_until",
            "responsible",
            "host",
            "monthly_stipend",
            "currency",
            "contract_type",
            "outcome",
        ]
        widgets = {"start": DateInput(), "end": DateInput(), "extended_until": DateInput()}

    def __init__(self, *args, action_types=None, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if action_types is None:
            del self.fields["action_type"]
        else:
            self.fields["action_type"].queryset = action_types
        self.fields["responsible"].queryset = organisations
        self.fields["host"].queryset = organisations
        self.fields["status"].initial = ActionStatus.PLANNED
        self.fields["contract_type"].choices = [("", "—"), *ContractType.choices]

    def validate_unique(self):
        """Rules are checked by the services."""

    def _post_clean(self):
        # The service validates the action with the case it belongs to; the model's own
        # checks here would run without it.
        pass


class NoteForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = CaseNote
        fields = ["body", "confidentiality"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}


class ReferralForm(StyledFormMixin, forms.Form):
    to_organisation = forms.ModelChoiceField(
        label=_("partner organisation"), queryset=Organisation.objects.none()
    )
    action = forms.ModelChoiceField(
        label=_("pathway action"), required=False, queryset=PathwayAction.objects.none()
    )
    message = forms.CharField(
        label=_("what the partner needs to know"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    deadline = forms.DateField(label=_("answer expected by"), widget=DateInput())

    def __init__(self, *args, partners=None, actions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_organisation"].queryset = partners
        self.fields["action"].queryset = actions


class CloseForm(VersionedForm):
    outcome = forms.ChoiceField(label=_("outcome"), choices=CaseOutcome.choices)
    reason = forms.CharField(
        label=_("reason for closing"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    closed_on = forms.DateField(label=_("closed on"), widget=DateInput(), required=False)


class FollowUpForm(StyledFormMixin, forms.Form):
    # Shown in each row of the follow-ups table, without a label of its own.
    situation = forms.ChoiceField(
        label=_("situation"),
        choices=Situation.choices,
        widget=forms.Select(attrs={"aria-label": _("situation")}),
    )
    note = forms.CharField(label=_("note"), required=False, max_length=500)
    done_on = forms.DateField(label=_("done on"), widget=DateInput(), required=False)


class AnswerForm(StyledFormMixin, forms.Form):
    decline_reason = forms.CharField(
        label=_("reason for declining"), required=False, max_length=500
    )


class OutcomeForm(StyledFormMixin, forms.Form):
    outcome = forms.CharField(
        label=_("outcome"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReportForm(StyledFormMixin, forms.Form):
    start = forms.DateField(label=_("from"), widget=DateInput())
    end = forms.DateField(label=_("to"), widget=DateInput())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            self.add_error("end", _("The end comes before the start."))
        return cleaned
