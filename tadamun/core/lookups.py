"""A prefix lookup that uses a plain B-tree index on every database.

PostgreSQL serves ``LIKE 'abc%'`` from the ``varchar_pattern_ops`` index Django creates, but
SQLite only does so for NOCASE columns; a range (``>= 'abc' AND < 'abc\\U0010ffff'``) uses the
ordinary index there. Keys searched this way are folded to lower-case ASCII beforehand.
"""

from django.db.models import CharField, Lookup


@CharField.register_lookup
class Prefix(Lookup):
    lookup_name = "prefix"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        escaped = self.rhs.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return f"{lhs} LIKE %s", [*lhs_params, escaped]

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"({lhs} >= %s AND {lhs} < %s)", [
            *lhs_params,
            *lhs_params,
            self.rhs,
            self.rhs + "\U0010ffff",
        ]


class _KeyComparison(Lookup):
    """A comparison in code-point order that the same index serves: PostgreSQL compares with
    the ``varchar_pattern_ops`` operators (the ordinary ``<`` follows the database collation,
    which that index cannot serve); SQLite's ordinary comparison is already in that order."""

    operator = ""
    pattern_operator = ""

    def _sql(self, compiler, connection, operator):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} {operator} {rhs}", [*lhs_params, *rhs_params]

    def as_sql(self, compiler, connection):
        return self._sql(compiler, connection, self.operator)

    def as_postgresql(self, compiler, connection):
        return self._sql(compiler, connection, self.pattern_operator)


@CharField.register_lookup
class SortsBefore(_KeyComparison):
    lookup_name = "sorts_before"
    operator = "<"
    pattern_operator = "~<~"


@CharField.register_lookup
class SortsFrom(_KeyComparison):
    lookup_name = "sorts_from"
    operator = ">="
    pattern_operator = "~>=~"


@CharField.register_lookup
class SortsAfter(_KeyComparison):
    lookup_name = "sorts_after"
    operator = ">"
    pattern_operator = "~>~"
