"""The demo's sign-ins: every role in the lead organisation of each seed programme, plus
staff of member organisations and a territory-limited desk, so the access rules show."""

from django.utils.translation import gettext as _

from tadamun.accounts.models import Role

DEMO_PASSWORD = "tadamun-demo"  # noqa: S105 - shown on the demo's sign-in page on purpose

# (username, first name, last name, language, organisation slug, role, territory code or None)
_ROLE_SUFFIX = {
    Role.COORDINATOR: "coordinator",
    Role.DESK_OPERATOR: "desk",
    Role.CASE_WORKER: "caseworker",
    Role.TRAINER: "trainer",
    Role.CONTROLLER: "controller",
    Role.VIEWER: "viewer",
}

_LEADS = [
    # prefix, lead organisation, network it coordinates (if the lead is not the network),
    # language, staff names per role
    (
        "utss",
        "utss",
        None,
        "ar",
        [
            ("Mokhtar", "Ben Salah"),
            ("Samia", "Trabelsi"),
            ("Hela", "Jlassi"),
            ("Karim", "Mejri"),
            ("Naceur", "Gharbi"),
            ("Amel", "Chaouch"),
        ],
    ),
    (
        "a4c",
        "act4community",
        None,
        "fr",
        [
            ("Youssef", "El Amrani"),
            ("Khadija", "Bennani"),
            ("Rachid", "Alaoui"),
            ("Salma", "Tazi"),
            ("Hicham", "Berrada"),
            ("Imane", "Chraibi"),
        ],
    ),
    (
        "agen",
        "agen",
        "breaking-isolation",
        "fr",
        [
            ("Claire", "Dubois"),
            ("Julien", "Martin"),
            ("Sophie", "Laurent"),
            ("Thomas", "Moreau"),
            ("Isabelle", "Garnier"),
            ("Marc", "Lefèvre"),
        ],
    ),
    (
        "reti",
        "rete-solidarieta-sostenibilita",
        None,
        "it",
        [
            ("Giulia", "Bianchi"),
            ("Marco", "Ferri"),
            ("Chiara", "Conti"),
            ("Paolo", "Greco"),
            ("Elena", "Marchetti"),
            ("Luca", "Barbieri"),
        ],
    ),
    (
        "win",
        "vnp-empoli",
        "win-empoli",
        "it",
        [
            ("Francesca", "Cioni"),
            ("Andrea", "Bagnoli"),
            ("Sara", "Mancini"),
            ("Stefano", "Pucci"),
            ("Laura", "Gori"),
            ("Matteo", "Baldi"),
        ],
    ),
]

_EXTRA = [
    ("jendouba-desk", "Sonia", "Ayari", "ar", "utss-jendouba", Role.DESK_OPERATOR, None),
    ("tabarka-desk", "Walid", "Dridi", "ar", "utss", Role.DESK_OPERATOR, "TN-32-TBK"),
    ("kef-caseworker", "Rim", "Hammami", "fr", "utss-kef", Role.CASE_WORKER, None),
    (
        "mosaico-caseworker",
        "Giovanni",
        "Lotti",
        "it",
        "cooperativa-sociale-il-mosaico",
        Role.CASE_WORKER,
        None,
    ),
    ("serres-coordinator", "Αθηνά", "Κοκκινίδου", "el", "serres", Role.COORDINATOR, None),
    ("serres-desk", "Νίκος", "Παπαδόπουλος", "el", "serres", Role.DESK_OPERATOR, None),
]


def account_specs() -> list[dict]:
    specs = []
    for prefix, lead, network, language, names in _LEADS:
        for (role, suffix), (first, last) in zip(_ROLE_SUFFIX.items(), names, strict=True):
            spec = {
                "username": f"{prefix}-{suffix}",
                "first_name": first,
                "last_name": last,
                "language": language,
                "roles": [(lead, role, None)],
            }
            if role == Role.COORDINATOR and network:
                spec["roles"].append((network, role, None))
            specs.append(spec)
    for username, first, last, language, org, role, territory in _EXTRA:
        specs.append(
            {
                "username": username,
                "first_name": first,
                "last_name": last,
                "language": language,
                "roles": [(org, role, territory)],
            }
        )
    return specs


def demo_accounts() -> list[dict]:
    """Rows for the sign-in page and the console, from the accounts that exist."""
    from tadamun.accounts.models import Membership

    memberships = (
        Membership.objects.filter(
            user__username__in=[s["username"] for s in account_specs()], is_active=True
        )
        .select_related("user", "organisation", "territory")
        .order_by("user__username", "pk")
    )
    rows: dict[str, dict] = {}
    for m in memberships:
        row = rows.setdefault(
            m.user.username,
            {
                "username": m.user.username,
                "role_label": m.get_role_display(),
                "organisation": str(m.organisation),
                "territory": str(m.territory) if m.territory else "",
            },
        )
        if row["organisation"] != str(m.organisation):
            row["organisation"] += " + " + str(m.organisation)
    order = [s["username"] for s in account_specs()]
    return [rows[u] for u in order if u in rows] or [
        {
            "username": "—",
            "role_label": _("No demo account yet"),
            "organisation": "",
            "territory": "",
        }
    ]
