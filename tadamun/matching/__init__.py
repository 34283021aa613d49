"""Matching people across scripts and spellings: who in the registry may be the same person.

``phonetic`` turns a name in Arabic, Latin or Greek letters into
a consonant skeleton (محمد, Mohamed, Mhamed and Μοχάμεντ are all ``MHMT``); ``keys`` reads a
person's names, dates and phone into the features comparisons use and the keys indexes use;
``compare`` puts each field of a pair in a level and weighs the levels (Fellegi-Sunter, the
same levels in Python and in DuckDB SQL); ``batch`` deduplicates or links lists with Splink
on DuckDB and groups the links with a guard against chaining; ``lookup`` is the typing-time
search of the desk, which discloses only what the user may know; ``tasks`` runs the batch
job over the registry. Decisions and figures: docs/decisions/0004-matching.md and the
"Matching" section of bench/README.md.

The review of duplicates is a Django app here too: ``models`` keeps each search
(``DuplicateRun``), the pairs it found that its starter may see (``DuplicatePair``, decisions
remembered across searches) and the merges (``PersonMerge``); ``services`` starts searches,
records decisions, merges two records of one person (every row pointing at the other record,
found through ``Person._meta.related_objects``, moves) and undoes a merge exactly; the
pages are under /duplicates/.
"""
