from rest_framework.pagination import CursorPagination


class Pagination(CursorPagination):
    """Pages that follow a cursor: stable while records are added, and no COUNT(*) over a
    registry of a million people."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
