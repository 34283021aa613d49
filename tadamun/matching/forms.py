from django import forms
from django.utils.translation import gettext_lazy as _

from tadamun.core.forms import StyledFormMixin
from tadamun.organisations.models import Organisation

from .services import MAX_THRESHOLD, MIN_THRESHOLD


class RunStartForm(StyledFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("search for"), queryset=Organisation.objects.none(), required=False
    )
    threshold = forms.FloatField(
        label=_("lowest probability shown"),
        initial=0.5,
        min_value=MIN_THRESHOLD,
        max_value=MAX_THRESHOLD,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        help_text=_(
            "Pairs the model finds at least this likely to be one person. 0.5 shows every "
            "pair more likely the same than not; a higher value shows fewer, surer pairs."
        ),
    )

    def __init__(self, *args, organisations=None, required=True, platform=False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        field.queryset = organisations if organisations is not None else Organisation.objects.none()
        field.required = required
        if platform:
            field.empty_label = _("The whole platform")
        elif organisations is not None and organisations.count() == 1:
            field.initial = organisations.first()
            field.empty_label = None


class MergeForm(StyledFormMixin, forms.Form):
    keep = forms.TypedChoiceField(label=_("record kept"), coerce=int, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("reason"), max_length=500, required=False)

    def __init__(self, *args, pair=None, **kwargs):
        super().__init__(*args, **kwargs)
        if pair is not None:
            self.fields["keep"].choices = [
                (pair.person_a_id, str(pair.person_a_id)),
                (pair.person_b_id, str(pair.person_b_id)),
            ]
