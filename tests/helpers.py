"""Small helpers shared by the test modules."""

from tadamun.organisations.models import Organisation
from tadamun.programmes.models import Programme, ProgrammeParticipant
from tadamun.registry.models import Consent, Group, GroupMember, Person, PersonShare


def snapshot() -> dict:
    """Everything a refused request must leave as it was: rows and their history."""
    return {
        "people": list(Person.objects.unscoped().order_by("pk").values()),
        "shares": list(PersonShare.objects.order_by("pk").values()),
        "groups": list(Group.objects.unscoped().order_by("pk").values()),
        "members": list(GroupMember.objects.order_by("pk").values()),
        "consents": list(Consent.objects.order_by("pk").values()),
        "programmes": list(Programme.objects.unscoped().order_by("pk").values()),
        "participants": list(ProgrammeParticipant.objects.order_by("pk").values()),
        "organisations": list(Organisation.objects.order_by("pk").values()),
        "history": {
            model.__name__: model.history.count()
            for model in (Person, PersonShare, Group, GroupMember, Consent, Programme)
        },
    }


def error_messages(response) -> list[str]:
    """The error messages a page showed (Django's messages framework)."""
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]
