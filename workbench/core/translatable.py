"""``N_``: marks a text for translation where it is defined, to be translated where it is shown.

Babel's extractor (``babel.cfg``) collects every ``N_("...")`` and ``_("...")`` into the
catalogs; ``N_`` itself returns the text unchanged, so a module that defines reader-facing
words (a table of labels) needs nothing of the faces that translate them.
"""

from __future__ import annotations


def N_(text: str) -> str:
    return text
