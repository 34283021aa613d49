"""Querysets that refuse to run until someone has said whose eyes they are for.

Every model holding personal data (people, groups, and later cases) uses a
``GuardedQuerySet`` as its default manager. Evaluating one raises ``UnscopedQuery`` unless it
went through ``.visible_to(user)`` (pages, API, exports, imports) or ``.unscoped(reason)``
(system work: migrations of data, the demo loader, the operator's admin). A query that
forgets the access layer therefore fails loudly in the first test that runs it, instead of
quietly showing records to the wrong organisation.
"""

from django.db import models

from .scope import Scope, scope_for


class UnscopedQuery(RuntimeError):
    pass


def _prefixed(condition: models.Q, prefix: str) -> models.Q:
    """A copy of ``condition`` whose lookups all start with ``prefix``."""
    copy = models.Q()
    copy.connector, copy.negated = condition.connector, condition.negated
    copy.children = [
        _prefixed(child, prefix) if isinstance(child, models.Q) else (prefix + child[0], child[1])
        for child in condition.children
    ]
    return copy


class GuardedQuerySet(models.QuerySet):
    _access_checked = False

    def _clone(self):
        clone = super()._clone()
        clone._access_checked = self._access_checked
        return clone

    def _checked(self):
        clone = self._chain()
        clone._access_checked = True
        return clone

    def _guard(self) -> None:
        if not self._access_checked:
            raise UnscopedQuery(
                f"{self.model.__name__} queried without .visible_to(user) or .unscoped()"
            )

    # What a subclass defines: the filter that limits rows to a scope.
    def visibility_filter(self, scope: Scope) -> models.Q:
        raise NotImplementedError

    def visible_to(self, user) -> "GuardedQuerySet":
        scope = user if isinstance(user, Scope) else scope_for(user)
        if scope.is_operator:
            return self._checked()
        if scope.user_id is None or not scope.grants:
            return self.none()._checked()
        return self.filter(self.visibility_filter(scope))._checked()

    def visibility_through(self, user, prefix: str) -> models.Q:
        """The visibility condition of this model seen from a related one: the same filter
        with every lookup behind ``prefix`` (``"project__"`` for a project's financings), so
        that the related rows are joined to, not tested against a subquery."""
        scope = user if isinstance(user, Scope) else scope_for(user)
        if scope.is_operator:
            return models.Q()
        if scope.user_id is None or not scope.grants:
            return models.Q(pk__in=[])
        return _prefixed(self.visibility_filter(scope), prefix)

    def unscoped(self, reason: str = "") -> "GuardedQuerySet":
        """All rows, for system work that has checked access itself or needs none."""
        return self._checked()

    # Every way a queryset reaches the database passes one of these.
    def _fetch_all(self):
        if self._result_cache is None:
            self._guard()
        super()._fetch_all()

    def count(self):
        if self._result_cache is None:
            self._guard()
        return super().count()

    def exists(self):
        if self._result_cache is None:
            self._guard()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._guard()
        return super().aggregate(*args, **kwargs)

    def iterator(self, *args, **kwargs):
        self._guard()
        return super().iterator(*args, **kwargs)

    def update(self, **kwargs):
        self._guard()
        return super().update(**kwargs)

    def delete(self):
        self._guard()
        return super().delete()

    def in_bulk(self, *args, **kwargs):
        self._guard()
        return super().in_bulk(*args, **kwargs)

    def contains(self, obj):
        self._guard()
        return super().contains(obj)
