"""Matching people across scripts and spellings: who in the registry may be the same person.

A plain package (no models). ``phonetic`` turns a name in Arabic, Latin or Greek letters into
a consonant skeleton (محمد, Mohamed, Mhamed and Μοχάμεντ are all ``MHMT``); ``keys`` reads a
person's names, dates and phone into the features comparisons use and the keys indexes use;
``compare`` puts each field of a pair in a level and weighs the levels (Fellegi-Sunter, the
same levels in Python and in DuckDB SQL); ``batch`` deduplicates or links lists with Splink
on DuckDB and groups the links with a guard against chaining; ``lookup`` is the typing-time
search of the desk, which discloses only what the user may know; ``tasks`` runs the batch
job over the registry. Decisions and figures: docs/decisions/0004-matching.md and the
"Matching" section of bench/README.md.
"""
