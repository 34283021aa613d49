from django import forms


class StyledFormMixin:
    """Give widgets Bootstrap classes, and say which field an error belongs to (aria)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            if hasattr(widget, "widgets"):
                for sub in widget.widgets:
                    sub.attrs["class"] = (sub.attrs.get("class", "") + " form-control mb-1").strip()
            else:
                widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()
            if self.is_bound and name in self.errors:
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["class"] += " is-invalid"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)
