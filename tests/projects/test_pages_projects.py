"""Pages of financed projects: who sees them, the forms' refusals (nothing written, the
message next to its field), receipts, photos, the public catalogue without personal data,
the dashboard's figures against the records, Arabic right to left."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from tadamun.core.money import format_money
from tadamun.projects import selectors as q
from tadamun.projects import services as s
from tadamun.projects.models import (
    Application,
    Exhibition,
    Financing,
    Product,
    Project,
    Repayment,
    Stand,
    Tranche,
    TrancheStatus,
    Visit,
)

from .conftest import TODAY, submit

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64


def decide(w, *applications):
    session = s.session_create(
        user=w.coordinator,
        call=w.call,
        held_on=TODAY,
        language="fr",
        members=[w.coordinator, w.coordinator_2],
        chair=w.coordinator,
    )
    for application in applications:
        s.application_precheck(user=w.coordinator, application=application)
        for member in (w.coordinator, w.coordinator_2):
            s.score_record(
                user=member,
                session=session,
                application=application,
                scores={"viability": 8, "impact": 6},
            )
    s.session_decide(user=w.coordinator, session=session)


def award(w, application, financings, financed_on=TODAY):
    if financed_on < application.submitted_on:
        Application.objects.unscoped().filter(pk=application.pk).update(submitted_on=financed_on)
    application = Application.objects.unscoped().get(pk=application.pk)
    return s.project_award(
        user=w.coordinator, application=application, financed_on=financed_on, financings=financings
    )


@pytest.fixture
def pp(pw):
    """Two financed projects of org_a: an individual one in Jendouba (a grant in two tranches
    and a loan) and the Tabarka weavers' collective one (a grant)."""
    w = pw
    individual = submit(w, amount="4500", total="5000")
    collective = submit(
        w,
        promoter=w.p_tabarka,
        territory=w.tabarka,
        kind="collective",
        group=w.group,
        amount="3000",
        total="3000",
    )
    decide(w, individual, collective)
    w.project = award(
        w,
        individual,
        [
            s.FinancingSpec(
                kind="grant",
                amount="1500",
                tranches=[
                    {"amount": "1000", "milestone": "Workshop rented"},
                    {"amount": "500", "milestone": "Machines bought"},
                ],
            ),
            s.FinancingSpec(kind="loan", amount="3000", instalments=6),
        ],
    )
    w.collective = award(w, collective, [s.FinancingSpec(kind="grant", amount="3000")])
    w.grant, w.loan = w.project.financings.order_by("pk")
    w.tranche = w.grant.tranches.get(number=1)
    w.url = reverse("projects:project", args=[w.project.pk])
    return w


def page(client, url, **kwargs):
    response = client.get(url, **kwargs)
    return response, response.content.decode()


def served_type(client, url) -> str | None:
    """The content type of a file the page serves (None when not found)."""
    response = client.get(url)
    if response.status_code != 200:
        return None
    # Reading the whole file lets the test client close it (and only it).
    b"".join(response.streaming_content)
    return response["Content-Type"]


def field_errors(html: str, field: str) -> list[str]:
    return re.findall(
        rf'data-field-error="{field}">(.*?)</div></div>', html, flags=re.S
    ) or re.findall(rf'data-field-error="{field}">(.*?)</div>', html, flags=re.S)


# --- Who sees what --------------------------------------------------------------------------


def test_pages_render_for_staff_and_404_for_outsiders(pp, client_for, client):
    w = pp
    project_urls = [
        w.url,
        reverse("projects:project_history", args=[w.project.pk]),
    ]
    lists = [
        reverse("projects:dashboard"),
        reverse("projects:project_list"),
        reverse("projects:at_risk"),
        reverse("projects:portfolio"),
        reverse("projects:exhibition_manage"),
    ]
    for persona in ("coordinator", "desk_a", "viewer_a", "controller_a", "operator"):
        c = client_for(getattr(w, persona))
        for url in project_urls + lists:
            response, html = page(c, url)
            assert response.status_code == 200, (persona, url)
            assert "INVALID[" not in html, (persona, url)
    # Outside the organisation, or outside the territory of the role: not found.
    for persona in ("outsider", "caseworker_b", "nobody", "desk_tabarka"):
        c = client_for(getattr(w, persona))
        for url in project_urls:
            assert c.get(url).status_code == 404, (persona, url)
        html = c.get(reverse("projects:project_list")).content.decode()
        assert w.project.code not in html
    # desk_tabarka works in Tabarka: the collective's project is theirs, the other is not.
    c = client_for(w.desk_tabarka)
    assert c.get(reverse("projects:project", args=[w.collective.pk])).status_code == 200
    client.logout()
    response = client.get(w.url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_project_page_shows_financing_schedule_members_and_forms_by_role(pp, client_for):
    w = pp
    _, html = page(client_for(w.coordinator), w.url)
    assert "Workshop rented" in html and 'data-testid="schedule"' in html
    assert format_money(Decimal("3000"), "TND") in html  # the loan, formatted for the locale
    # Nothing is evidenced yet: the rule is said, no release is offered.
    assert 'data-testid="release-not-yet"' in html and 'data-testid="tranche-rule"' in html
    assert 'data-testid="release-form"' not in html
    assert 'data-testid="mentor-form"' in html
    _, html = page(client_for(w.desk_a), w.url)
    assert 'data-testid="repayment-form"' in html and 'data-testid="visit-form"' in html
    assert 'data-testid="release-not-yet"' not in html  # releasing is a coordinator's work
    _, html = page(client_for(w.viewer_a), w.url)
    for form in ("repayment-form", "visit-form", "coaching-form", "product-form"):
        assert f'data-testid="{form}"' not in html
    # The collective: members with their roles and shares.
    _, html = page(client_for(w.desk_a), reverse("projects:project", args=[w.collective.pk]))
    members = html.split('data-testid="members"')[1].split("</table>")[0]
    assert "Salma Trabelsi" in members and "60" in members and "President" in members


# --- Tranches -------------------------------------------------------------------------------


def test_tranche_release_refused_before_evidence_then_released(pp, client_for):
    w = pp
    c = client_for(w.coordinator)
    url = reverse("projects:tranche_release", args=[w.project.pk, w.tranche.pk])
    before = (Tranche.history.count(), Project.objects.unscoped().get(pk=w.project.pk).version)
    response = c.post(url, {f"r{w.tranche.pk}-released_on": TODAY.isoformat()})
    html = response.content.decode()
    assert response.status_code == 400
    release_form = html.split('data-testid="release-form"')[1].split("</form>")[0]
    assert "has not been evidenced: record the evidence first" in release_form
    w.tranche.refresh_from_db()
    assert w.tranche.status == TrancheStatus.PLANNED and w.tranche.released_on is None
    assert (
        Tranche.history.count(),
        Project.objects.unscoped().get(pk=w.project.pk).version,
    ) == before
    # The desk records the evidence, with a document; the coordinator then releases.
    evidence = reverse("projects:tranche_evidence", args=[w.project.pk, w.tranche.pk])
    response = client_for(w.desk_a).post(
        evidence,
        {
            f"e{w.tranche.pk}-note": "Lease signed",
            f"e{w.tranche.pk}-file": SimpleUploadedFile("lease.png", PNG),
        },
    )
    assert response.status_code == 302
    w.tranche.refresh_from_db()
    assert w.tranche.status == TrancheStatus.EVIDENCED and w.tranche.evidence_file
    file_url = reverse("projects:evidence_file", args=[w.project.pk, w.tranche.pk])
    assert served_type(client_for(w.viewer_a), file_url) == "image/png"
    assert served_type(client_for(w.outsider), file_url) is None
    c = client_for(w.coordinator)
    assert 'data-testid="release-form"' in c.get(w.url).content.decode()
    response = c.post(url, {f"r{w.tranche.pk}-released_on": TODAY.isoformat()})
    assert response.status_code == 302
    w.tranche.refresh_from_db()
    assert w.tranche.status == TrancheStatus.RELEASED


def test_desk_cannot_release_and_evidence_needs_a_note_or_file(pp, client_for):
    w = pp
    c = client_for(w.desk_a)
    response = c.post(reverse("projects:tranche_evidence", args=[w.project.pk, w.tranche.pk]), {})
    assert response.status_code == 400
    assert "Describe the evidence" in response.content.decode()
    s.tranche_evidence(user=w.desk_a, tranche=w.tranche, note="ok")
    response = c.post(reverse("projects:tranche_release", args=[w.project.pk, w.tranche.pk]), {})
    assert response.status_code == 403
    w.tranche.refresh_from_db()
    assert w.tranche.status == TrancheStatus.EVIDENCED


# --- Loans and receipts -------------------------------------------------------------------


def test_repayment_refusals_then_receipt(pp, client_for):
    w = pp
    c = client_for(w.desk_a)
    url = reverse("projects:repayment_record", args=[w.project.pk, w.loan.pk])
    prefix = f"p{w.loan.pk}-"
    cases = [
        ({"amount": "3000.001"}, "amount", "more than the loan still owes"),
        ({"amount": "-5"}, "amount", "more than zero"),
        ({"amount": "0"}, "amount", "more than zero"),
        ({"amount": "12.3456"}, "amount", "at most 3 decimals"),
        ({"amount": "abc"}, "amount", "Enter an amount"),
        (
            {"amount": "100", "paid_on": (TODAY - datetime.timedelta(days=3)).isoformat()},
            "paid_on",
            "before the award",
        ),
        (
            {"amount": "100", "paid_on": (TODAY + datetime.timedelta(days=3)).isoformat()},
            "paid_on",
            "in the future",
        ),
    ]
    for data, field, text in cases:
        response = c.post(url, {prefix + k: v for k, v in data.items()})
        html = response.content.decode()
        assert response.status_code == 400, data
        errors = " ".join(field_errors(html, field))
        assert text in errors, (data, errors)
    assert Repayment.objects.count() == 0
    loan = Financing.objects.get(pk=w.loan.pk)
    assert loan.outstanding == Decimal("3000.000")
    response = c.post(url, {prefix + "amount": "750.5", prefix + "paid_on": TODAY.isoformat()})
    repayment = Repayment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:receipt", args=[w.project.pk, repayment.pk])
    response, html = page(c, response["Location"])
    assert response.status_code == 200
    assert format_money(Decimal("750.500"), "TND") in html
    assert format_money(Decimal("2249.500"), "TND") in html  # still owed after it
    assert repayment.receipt in html and "window.print()" in html
    receipt = response.wsgi_request.path
    assert client_for(w.outsider).get(receipt).status_code == 404
    # The schedule: paid and remaining per instalment.
    _, html = page(client_for(w.viewer_a), w.url)
    schedule = html.split('data-testid="schedule"')[1].split("</table>")[0]
    assert format_money(Decimal("500"), "TND") in schedule
    assert format_money(Decimal("249.500"), "TND") in schedule


def test_arrears_shown_and_project_flagged(pw, client_for):
    w = pw
    application = submit(w, amount="3000", total="3000")
    decide(w, application)
    long_ago = TODAY - datetime.timedelta(days=200)
    project = award(
        w, application, [s.FinancingSpec(kind="loan", amount="3000", instalments=10)], long_ago
    )
    loan = project.financings.get()
    due = s.arrears_of(loan)
    assert due > 0
    _, html = page(client_for(w.coordinator), reverse("projects:project", args=[project.pk]))
    assert 'data-testid="risks"' in html and "In arrears" in html
    arrears = html.split('data-testid="arrears"')[1].split("</dd>")[0]
    assert format_money(due, "TND") in arrears
    _, html = page(client_for(w.coordinator), reverse("projects:at_risk"))
    assert project.code in html


# --- Visits, coaching, mentor ---------------------------------------------------------------


def test_visit_photo_type_size_and_dates(pp, client_for):
    w = pp
    c = client_for(w.desk_a)
    url = reverse("projects:visit_record", args=[w.project.pk])
    base = {
        "visited_on": TODAY.isoformat(),
        "project_status": "active",
        "jobs_women": "2",
        "jobs_men": "1",
        "monthly_revenue": "850.500",
        "latitude": "36.954",
        "longitude": "8.758",
    }
    for upload, text in [
        (SimpleUploadedFile("photo.jpg", GIF, content_type="image/jpeg"), "JPEG, PNG or WebP"),
        (SimpleUploadedFile("photo.png", b"<svg/>" * 20), "JPEG, PNG or WebP"),
        (SimpleUploadedFile("big.png", PNG + b"\x00" * (5 * 1024 * 1024)), "larger than 5 MB"),
    ]:
        response = c.post(url, {**base, "photo": upload})
        assert response.status_code == 400
        assert text in " ".join(field_errors(response.content.decode(), "photo"))
    response = c.post(url, {**base, "visited_on": "2000-01-01"})
    assert response.status_code == 400
    assert "before the award" in " ".join(field_errors(response.content.decode(), "visited_on"))
    response = c.post(url, {**base, "latitude": "95", "longitude": ""})
    assert response.status_code == 400
    assert Visit.objects.count() == 0
    webp = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
    response = c.post(url, {**base, "photo": SimpleUploadedFile("x.exe", webp)})
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.photo.name.endswith(".webp") and visit.latitude == Decimal("36.954")
    project = Project.objects.unscoped().get(pk=w.project.pk)
    assert (project.jobs_women, project.jobs_men, project.monthly_revenue) == (
        2,
        1,
        Decimal("850.500"),
    )
    photo = reverse("projects:visit_photo", args=[w.project.pk, visit.pk])
    assert served_type(client_for(w.viewer_a), photo) == "image/webp"
    assert served_type(client_for(w.outsider), photo) is None


def test_planned_visit_coaching_attendance_and_mentor_conflict(pp, client_for):
    w = pp
    c = client_for(w.desk_a)
    collective = reverse("projects:project", args=[w.collective.pk])
    response = c.post(
        reverse("projects:visit_plan", args=[w.collective.pk]),
        {"planned_on": (TODAY + datetime.timedelta(days=10)).isoformat()},
    )
    assert response.status_code == 302
    planned = Visit.objects.get()
    response = c.post(
        reverse("projects:visit_record", args=[w.collective.pk]),
        {"visit": planned.pk, "visited_on": TODAY.isoformat(), "project_status": "struggling"},
    )
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.state == "done"
    # Attendance among the promoter and the collective's members only.
    url = reverse("projects:coaching_record", args=[w.collective.pk])
    data = {"kind": "coaching", "held_on": TODAY.isoformat(), "topic": "Pricing", "hours": "2"}
    response = c.post(url, {**data, "attendees": [w.p_kef.pk]})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "attendees")
    response = c.post(url, {**data, "attendees": [w.p_tabarka.pk, w.p_jendouba.pk]})
    assert response.status_code == 302
    _, html = page(c, collective)
    assert "Pricing" in html and "Salma Trabelsi" in html.split('data-testid="coaching"')[1]
    # Mentor: a coordinator assigns; a stale version is refused with a message.
    c = client_for(w.coordinator)
    url = reverse("projects:mentor_assign", args=[w.collective.pk])
    version = Project.objects.unscoped().get(pk=w.collective.pk).version
    response = c.post(url, {"mentor": w.desk_a.pk, "version": version - 1})
    assert response.status_code == 400
    assert "Someone else changed this project" in response.content.decode()
    assert Project.objects.unscoped().get(pk=w.collective.pk).mentor_id is None
    response = c.post(url, {"mentor": w.desk_a.pk, "version": version})
    assert response.status_code == 302
    assert Project.objects.unscoped().get(pk=w.collective.pk).mentor_id == w.desk_a.pk


# --- Products and the public catalogue ------------------------------------------------------


def test_products_catalogue_and_exhibitions_show_no_personal_data(pp, client_for):
    w = pp
    anonymous = Client()
    c = client_for(w.desk_a)
    add = reverse("projects:product_add", args=[w.project.pk])
    good = {"name_0": "Woven basket", "price_min": "20", "price_max": "45.5"}
    response = c.post(add, {**good, "photo": SimpleUploadedFile("b.png", GIF)})
    assert response.status_code == 400 and field_errors(response.content.decode(), "photo")
    response = c.post(add, {**good, "price_max": "10"})
    assert response.status_code == 400
    assert "below the lowest" in " ".join(field_errors(response.content.decode(), "price_max"))
    response = c.post(add, {**good, "price_min": "-1"})
    assert response.status_code == 400 and field_errors(response.content.decode(), "price_min")
    assert Product.objects.count() == 0
    response = c.post(
        add,
        {
            "name_0": "Woven basket",
            "price_min": "20",
            "price_max": "45.5",
            "published": "on",
            "photo": SimpleUploadedFile("b.png", PNG),
        },
    )
    assert response.status_code == 302
    c.post(
        reverse("projects:product_add", args=[w.collective.pk]),
        {"name_0": "Secret rug", "price_min": "100", "price_max": "100"},
    )
    basket, rug = Product.objects.order_by("pk")
    response, html = page(anonymous, reverse("projects:catalogue"))
    assert response.status_code == 200
    assert "Woven basket" in html and "Secret rug" not in html
    assert format_money(Decimal("20"), "TND") in html
    assert format_money(Decimal("45.5"), "TND") in html
    for name in ("Salma", "Trabelsi", "Mohamed", "Ben Ali", "محمد", "Tabarka weavers"):
        assert name not in html
    assert (
        served_type(anonymous, reverse("projects:catalogue_photo", args=[basket.pk])) == "image/png"
    )
    assert served_type(anonymous, reverse("projects:catalogue_photo", args=[rug.pk])) is None
    # Filters offer the governorates that have products; Kef has none.
    catalogue = reverse("projects:catalogue")
    regions = page(anonymous, catalogue)[0].context["form"].fields["region"].queryset
    assert list(regions) == [w.jendouba]
    assert "Woven basket" in anonymous.get(catalogue, {"region": w.jendouba.pk}).content.decode()
    assert "Woven basket" in anonymous.get(catalogue, {"sector": w.crafts.pk}).content.decode()
    assert "Woven basket" not in anonymous.get(catalogue, {"sector": w.farming.pk}).content.decode()
    # Publishing and withdrawing.
    c = client_for(w.desk_a)
    c.post(reverse("projects:product_publish", args=[w.collective.pk, rug.pk]), {"published": "1"})
    assert "Secret rug" in anonymous.get(reverse("projects:catalogue")).content.decode()
    c.post(reverse("projects:product_publish", args=[w.project.pk, basket.pk]), {"published": "0"})
    assert "Woven basket" not in anonymous.get(reverse("projects:catalogue")).content.decode()
    # Exhibitions: a coordinator creates one and adds stands by project code.
    manage = reverse("projects:exhibition_manage")
    html = client_for(w.desk_a).get(manage).content.decode()
    assert 'data-testid="exhibition-form"' not in html
    c = client_for(w.coordinator)
    data = {
        "organisation": w.net.pk,
        "name_0": "Innov Impact",
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY - datetime.timedelta(days=1)).isoformat(),
        "territory": w.jendouba.pk,
    }
    response = c.post(manage, data)
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "ends_on")
    response = c.post(manage, {**data, "ends_on": TODAY.isoformat()})
    exhibition = Exhibition.objects.get()
    assert response.status_code == 302
    stands = reverse("projects:exhibition_stands", args=[exhibition.pk])
    response = c.post(stands, {"project": "NO-SUCH-CODE", "label": "A1"})
    assert response.status_code == 400 and field_errors(response.content.decode(), "project")
    assert c.post(stands, {"project": w.collective.code, "label": "A1"}).status_code == 302
    # The desk of a member organisation neither manages nor even finds the network's page.
    assert client_for(w.desk_a).post(stands, {"project": w.project.code}).status_code == 404
    assert Stand.objects.count() == 1
    html = anonymous.get(reverse("projects:exhibitions")).content.decode()
    assert "Innov Impact" in html
    response, html = page(anonymous, reverse("projects:exhibition", args=[exhibition.pk]))
    assert response.status_code == 200
    assert "Secret rug" in html and w.collective.title in html
    for name in ("Salma", "Trabelsi", "Mohamed", "Ben Ali", "محمد", "Tabarka weavers"):
        assert name not in html


def test_product_edit_page(pp, client_for):
    w = pp
    product = s.product_save(
        user=w.desk_a, project=w.project, name={"en": "Basket"}, price_min="5", price_max="8"
    )
    url = reverse("projects:product_edit", args=[w.project.pk, product.pk])
    assert client_for(w.outsider).get(url).status_code == 404
    c = client_for(w.desk_a)
    response, html = page(c, url)
    assert response.status_code == 200 and 'value="Basket"' in html and "INVALID[" not in html
    response = c.post(url, {"name_0": "Basket", "price_min": "5", "price_max": "4"})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "price_max")
    product.refresh_from_db()
    assert product.price_max == Decimal("8.000")
    response = c.post(url, {"name_0": "Big basket", "price_min": "5", "price_max": "12"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert (str(product.name), product.price_max) == ("Big basket", Decimal("12.000"))
    # Viewers read the project, they do not change its products.
    response = client_for(w.viewer_a).post(url, {"name_0": "X", "price_min": "1", "price_max": "1"})
    assert response.status_code == 403
    product.refresh_from_db()
    assert str(product.name) == "Big basket"


# --- Dashboard, portfolio, exports ----------------------------------------------------------


def test_dashboard_figures_equal_the_records(pp, client_for):
    w = pp
    kef = submit(
        w, user=w.caseworker_b, promoter=w.p_kef, territory=w.kef, amount="2000", total="2000"
    )
    decide(w, kef)
    kef_project = award(w, kef, [s.FinancingSpec(kind="grant", amount="2000")])
    s.visit_record(
        user=w.desk_a,
        project=w.project,
        visited_on=TODAY,
        project_status="active",
        jobs_women=3,
        jobs_men=1,
    )
    s.visit_record(
        user=w.caseworker_b,
        project=kef_project,
        visited_on=TODAY,
        project_status="stopped",
        jobs_women=0,
        jobs_men=2,
    )
    records = list(Project.objects.unscoped().all())
    response = client_for(w.coordinator).get(reverse("projects:dashboard"))
    html = response.content.decode()
    total = response.context["total"]
    assert total["projects"] == len(records) == 3
    assert total["collective"] == sum(1 for p in records if p.kind == "collective") == 1
    assert total["individual"] == 2
    assert total["jobs_women"] == sum(p.jobs_women for p in records) == 3
    assert total["jobs_men"] == sum(p.jobs_men for p in records) == 3
    amount = sum(p.amount_financed for p in records)
    assert total["amounts"] == [format_money(amount, "TND")]
    assert format_money(Decimal("9500"), "TND") in html
    regions = {r["name"]: r["projects"] for r in response.context["regions"]}
    assert regions == {"Jendouba": 2, "Kef": 1}
    statuses = {r["status"]: r["projects"] for r in response.context["statuses"]}
    assert statuses == {"active": 2, "struggling": 0, "stopped": 1}
    assert 'id="dashboard-data"' in html and "chart.umd.js" in html
    # Filters: one organisation, a year with nothing.
    response = client_for(w.coordinator).get(
        reverse("projects:dashboard"), {"organisation": w.org_b.pk}
    )
    assert response.context["total"]["projects"] == 1
    response = client_for(w.coordinator).get(reverse("projects:dashboard"), {"year": 2001})
    assert response.context["total"]["projects"] == 0
    # Each sees their own: desk_a sees org_a's two projects, the outsider none.
    assert client_for(w.desk_a).get(reverse("projects:dashboard")).context["total"]["projects"] == 2
    assert (
        client_for(w.outsider).get(reverse("projects:dashboard")).context["total"]["projects"] == 0
    )


def test_dashboard_queries_do_not_grow_with_projects(pp, client_for):
    w = pp
    c = client_for(w.coordinator)
    url = reverse("projects:dashboard")
    c.get(url)
    with CaptureQueriesContext(connection) as before:
        c.get(url)
    template = Project.objects.unscoped().get(pk=w.project.pk)
    copies = []
    for n in range(200):
        copy = Project(
            **{
                f.attname: getattr(template, f.attname)
                for f in Project._meta.concrete_fields
                if f.attname not in ("id", "code", "application_id")
            }
        )
        copy.code = f"BULK{n:05d}"
        copies.append(copy)
    Project.objects.bulk_create(copies)
    with CaptureQueriesContext(connection) as after:
        response = c.get(url)
    assert response.context["total"]["projects"] == 202
    assert len(after.captured_queries) == len(before.captured_queries)


def test_portfolio_and_at_risk_exports(pw, client_for):
    w = pw
    application = submit(w, amount="3000", total="3000")
    decide(w, application)
    long_ago = TODAY - datetime.timedelta(days=200)
    project = award(
        w, application, [s.FinancingSpec(kind="loan", amount="3000", instalments=10)], long_ago
    )
    c = client_for(w.coordinator)
    response = c.get(reverse("projects:portfolio"))
    html = response.content.decode()
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 1 and rows[0]["name"] == "Jendouba"
    assert rows[0]["line"].at_risk == Decimal("3000.000") == rows[0]["line"].outstanding
    assert format_money(Decimal("3000"), "TND") in html and "100.0%" in html
    # 90 days: only instalments due more than 90 days ago count.
    lines = q.portfolio_at_risk(w.coordinator, days=90)
    response = c.get(reverse("projects:portfolio"), {"days": "90"})
    assert response.context["rows"][0]["line"].at_risk == lines[0].at_risk
    assert c.get(reverse("projects:portfolio"), {"days": "45"}).context["form"].errors
    response = c.get(reverse("projects:portfolio"), {"days": "30", "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    jendouba = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Jendouba")
    assert jendouba[1:3] == ("TND", 1)
    assert Decimal(str(jendouba[3])) == Decimal(str(jendouba[5])) == Decimal("3000")
    assert jendouba[6] == 1.0
    response = c.get(reverse("projects:at_risk"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    codes = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert project.code in codes
    assert client_for(w.outsider).get(reverse("projects:portfolio")).context["rows"] == []


# --- The group page, Arabic -----------------------------------------------------------------


def test_group_page_lists_the_collectives_projects(pp, client_for):
    w = pp
    html = client_for(w.desk_a).get(reverse("registry:group_detail", args=[w.group.pk])).content
    html = html.decode()
    section = html.split('data-testid="group-projects"')[1]
    assert w.collective.code in section and w.project.code not in section
    assert "INVALID[" not in html


def test_arabic_pages_are_right_to_left(pp, client_for):
    w = pp
    c = client_for(w.coordinator)
    c.post("/i18n/language/", {"language": "ar", "next": "/"})
    for url in (w.url, reverse("projects:dashboard"), reverse("projects:catalogue")):
        response = c.get(url)
        html = response.content.decode()
        assert response.status_code == 200
        assert re.search(r'<html[^>]*dir="rtl"', html), url
        assert "bootstrap.rtl.min.css" in html
        assert "INVALID[" not in html
