"""Pages of micro-projects, under /projects/ (staff) and /apply/, /catalogue/ (public).

Two modules hold them: ``urls_calls`` (calls, applications, public application and
tracking, committees and minutes) and ``urls_projects`` (financed projects, financing,
repayments, visits, coaching, risks, portfolio, dashboard, catalogue and exhibitions)."""

from . import urls_calls, urls_projects

app_name = "projects"

urlpatterns = [*urls_calls.urlpatterns, *urls_projects.urlpatterns]
