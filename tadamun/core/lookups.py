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
