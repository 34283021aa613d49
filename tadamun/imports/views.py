from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tadamun.core.errors import DomainError
from tadamun.core.views_helpers import get_visible_or_404, paginate, show_domain_error

from . import kinds, services, template_files
from .forms import ImportUploadForm
from .models import ImportJob, ImportKind, ImportPhase, ImportStatus


def _visible_job(request, pk) -> ImportJob:
    return get_visible_or_404(
        ImportJob.objects.visible_to(request.user).select_related(
            "organisation", "created_by", "run_by"
        ),
        pk=pk,
    )


def _kind_from(request) -> kinds.Kind:
    code = request.POST.get("kind") or request.GET.get("kind") or ImportKind.PEOPLE
    try:
        return kinds.get(code)
    except KeyError:
        raise Http404 from None


@login_required
def import_list(request):
    jobs = (
        ImportJob.objects.visible_to(request.user)
        .select_related("organisation", "created_by")
        .order_by("-pk")
    )
    context = {
        "page": paginate(jobs, request),
        "can_import": kinds.get(ImportKind.PEOPLE).organisations(request.user).exists(),
        "kinds": kinds.KINDS.values(),
    }
    return render(request, "imports/import_list.html", context)


@login_required
def import_new(request):
    kind = _kind_from(request)
    organisations = kind.organisations(request.user)
    if not organisations.exists():
        messages.error(request, _("Your role does not allow importing records."))
        return redirect("imports:list")
    replaces = None
    replaces_id = request.POST.get("replaces") or request.GET.get("replaces")
    if replaces_id:
        replaces = _visible_job(request, replaces_id)
    form = ImportUploadForm(
        request.POST or None,
        request.FILES or None,
        organisations=organisations,
        initial={"organisation": replaces.organisation} if replaces else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_upload(
                user=request.user,
                organisation=form.cleaned_data["organisation"],
                file=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                encoding=form.cleaned_data["encoding"],
                replaces=replaces,
            )
            services.import_preview_start(user=request.user, job=job)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            return redirect("imports:detail", pk=job.pk)
    return render(
        request,
        "imports/import_new.html",
        {"form": form, "kind": kind, "kinds": kinds.KINDS.values(), "replaces": replaces},
    )


def _status_context(request, job: ImportJob) -> dict:
    kind = kinds.get(job.kind)
    processed = services.job_progress(job)
    total = job.rows_total if job.is_busy else 0
    percent = min(100, processed * 100 // total) if total else None
    report = job.report or {}
    errors = report.get("errors", [])
    return {
        "job": job,
        "kind": kind,
        "ImportStatus": ImportStatus,
        "ImportPhase": ImportPhase,
        "processed": processed,
        "total": total,
        "percent": percent,
        "report": report,
        "errors": errors,
        "more_errors": max(0, job.error_count - len(errors)),
        # Not while the panel polls: the progress is all it shows then.
        "duplicates": [] if job.is_busy else services.report_duplicates(request.user, job),
        "can_act": kind.may_import(request.user, job.organisation),
        "run_label": _("Import %(records)s") % {"records": kind.count_label(job.rows_total)},
        "written_label": kind.count_label(report.get("written", 0)),
        "result_url": f"{reverse(kind.result_url)}?organisation={job.organisation.slug}"
        if kind.result_url
        else "",
    }


@login_required
def import_detail(request, pk):
    job = _visible_job(request, pk)
    return render(request, "imports/import_detail.html", _status_context(request, job))


@login_required
def import_status(request, pk):
    """HTMX: the status panel, polled every second while the import works."""
    job = _visible_job(request, pk)
    return render(request, "imports/fragment_import_status.html", _status_context(request, job))


@login_required
@require_POST
def import_run(request, pk):
    job = _visible_job(request, pk)
    try:
        services.import_run(user=request.user, job=job)
    except DomainError as error:
        show_domain_error(request, None, error)
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_POST
def import_cancel(request, pk):
    job = _visible_job(request, pk)
    try:
        services.import_cancel(user=request.user, job=job)
    except DomainError as error:
        show_domain_error(request, None, error)
    else:
        messages.success(request, _("The import was cancelled; nothing was written."))
    return redirect("imports:detail", pk=job.pk)


@login_required
def import_template(request, kind, extension):
    try:
        definition = kinds.get(kind)
    except KeyError:
        raise Http404 from None
    organisation = definition.organisations(request.user).select_related("territory").first()
    context = {"organisation": organisation}
    if extension == "csv":
        content = template_files.template_csv(definition, context)
        content_type = "text/csv; charset=utf-8"
    elif extension == "xlsx":
        content = template_files.template_xlsx(definition, context)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise Http404
    response = HttpResponse(content, content_type=content_type)
    name = template_files.template_name(definition, extension)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
