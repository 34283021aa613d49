from collections.abc import Mapping

from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tadamun.organisations.models import NetworkMembership, Organisation
from tadamun.programmes.models import Component, Programme
from tadamun.registry.models import Consent, Group, GroupMember, Person
from tadamun.territories.models import Territory

from .fields import TranslatedField


class StrictModelSerializer(serializers.ModelSerializer):
    """Refuse what DRF would quietly accept: fields it does not know (a typo would be lost
    without a word) and numbers or booleans where text is due (DRF turns 123 into "123")."""

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, Mapping):
            for name, value in data.items():
                field = self.fields.get(name)
                if field is None:
                    errors[name] = [_("This field cannot be set here.")]
                elif (
                    isinstance(field, serializers.CharField)
                    and not field.read_only
                    and value is not None
                    and not isinstance(value, str)
                ):
                    errors[name] = [serializers.CharField.default_error_messages["invalid"]]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if errors and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **errors}) from None
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class TerritorySerializer(StrictModelSerializer):
    name = TranslatedField(read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Territory
        fields = ["code", "name", "level", "parent", "depth"]


class _CodeField(serializers.SlugRelatedField):
    """A record named by its code. A code holding a NUL character names nothing, and is refused
    before the lookup (PostgreSQL would fail on it rather than find no row)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError(
                ProhibitNullCharactersValidator.message, code=ProhibitNullCharactersValidator.code
            )
        return super().to_internal_value(data)


class TerritoryCodeField(_CodeField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Territory.objects.all())
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class OrganisationCodeField(_CodeField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "slug")
        kwargs.setdefault("queryset", Organisation.objects.active())
        super().__init__(**kwargs)


class NetworkMembershipSerializer(StrictModelSerializer):
    network = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    member = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = NetworkMembership
        fields = ["network", "member", "role", "joined_on", "left_on"]


class OrganisationSerializer(StrictModelSerializer):
    name = TranslatedField(max_length=300)
    territory = TerritoryCodeField()
    network = OrganisationCodeField(
        write_only=True,
        required=False,
        help_text=_("The network the new organisation joins (its coordinator creates it)."),
    )
    networks = NetworkMembershipSerializer(source="network_links", many=True, read_only=True)

    class Meta:
        model = Organisation
        fields = [
            "slug",
            "name",
            "short_name",
            "kind",
            "country",
            "territory",
            "time_zone",
            "network",
            "networks",
            "archived_at",
        ]
        read_only_fields = ["archived_at"]
        extra_kwargs = {"slug": {"validators": []}}


class ComponentSerializer(StrictModelSerializer):
    title = TranslatedField()

    class Meta:
        model = Component
        fields = ["code", "title", "order"]


class ProgrammeSerializer(StrictModelSerializer):
    title = TranslatedField(max_length=300)
    description = TranslatedField(max_length=10_000, multiline=True, required=False)
    # Participants are written as lists of organisation codes and read back from the
    # programme's participants (to_representation), since they are rows of their own.
    lead = OrganisationCodeField(write_only=True)
    funders = OrganisationCodeField(many=True, required=False, write_only=True)
    implementers = OrganisationCodeField(many=True, required=False, write_only=True)
    partners = OrganisationCodeField(many=True, required=False, write_only=True)
    territories = TerritoryCodeField(many=True, allow_null=False, required=False)
    components = ComponentSerializer(many=True, read_only=True)

    class Meta:
        model = Programme
        fields = [
            "code",
            "title",
            "description",
            "status",
            "start",
            "end",
            "budget",
            "currency",
            "lead",
            "funders",
            "implementers",
            "partners",
            "territories",
            "components",
            "archived_at",
        ]
        read_only_fields = ["archived_at"]
        extra_kwargs = {"code": {"validators": []}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        by_role = instance.participants_by_role()
        data["lead"] = next((o.slug for o in by_role.get("lead", [])), None)
        for key, role in (
            ("funders", "funder"),
            ("implementers", "implementer"),
            ("partners", "partner"),
        ):
            data[key] = [o.slug for o in by_role.get(role, [])]
        return data


class PersonSerializer(StrictModelSerializer):
    organisation = OrganisationCodeField(
        help_text=_("The organisation registering the person (it will hold the record).")
    )
    residence = TerritoryCodeField()
    languages = serializers.ListField(
        child=serializers.CharField(max_length=8), required=False, max_length=20
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "given_name",
            "family_name",
            "given_name_latin",
            "family_name_latin",
            "sex",
            "birth_date",
            "birth_year",
            "phone",
            "email",
            "address",
            "document_type",
            "document_number",
            "residence",
            "languages",
            "organisation",
            "created_at",
            "updated_at",
            "archived_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "archived_at"]


class PersonUpdateSerializer(PersonSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)


class ConsentSerializer(StrictModelSerializer):
    recorded_by = serializers.StringRelatedField()
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Consent
        fields = [
            "id",
            "purpose",
            "lawful_basis",
            "given_on",
            "note",
            "organisation",
            "recorded_by",
            "recorded_at",
            "withdrawn_on",
        ]
        read_only_fields = ["id", "organisation", "recorded_by", "recorded_at", "withdrawn_on"]


class GroupMemberSerializer(StrictModelSerializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.none())

    class Meta:
        model = GroupMember
        fields = ["id", "person", "role", "share", "joined_on", "left_on"]
        read_only_fields = ["id", "left_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["person"].queryset = Person.objects.visible_to(request.user)


class GroupSerializer(StrictModelSerializer):
    organisation = OrganisationCodeField()
    territory = TerritoryCodeField()

    class Meta:
        model = Group
        fields = ["id", "name", "kind", "organisation", "territory", "created_at", "archived_at"]
        read_only_fields = ["id", "created_at", "archived_at"]


class GroupUpdateSerializer(GroupSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)


class HistoryEntrySerializer(serializers.Serializer):
    date = serializers.DateTimeField(source="history_date")
    type = serializers.CharField(source="history_type")
    user = serializers.CharField(source="history_user", allow_null=True)
    reason = serializers.CharField(source="history_change_reason", allow_null=True)
