"""The Mechanism's languages: gettext catalogs managed with Babel, locale-aware dates and numbers.

Texts a reader sees are marked ``_("...")`` in the faces (the brief, the explorer) and looked up
in ``workbench/faces/locale/<language>/LC_MESSAGES/workbench.po``.  A translator adds a language
by adding a catalog, with no change to the code::

    pybabel extract -F babel.cfg -o workbench/faces/locale/workbench.pot .
    pybabel init -i workbench/faces/locale/workbench.pot -d workbench/faces/locale -D workbench -l ar

The catalogs are read as ``.po`` text (compiled in memory), so there is no build step and no
binary file to keep in step.  A text missing from a catalog falls back to English.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
import string
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.numbers import format_decimal, format_percent

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "workbench"


def languages() -> list[str]:
    """English, and every language with a catalog."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return ["en", *[lang for lang in found if lang != "en"]]


@functools.cache
def _catalog(language: str, locale_dir: Path) -> gettext.NullTranslations:
    path = locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == "en" or not path.is_file():
        return gettext.NullTranslations()
    catalog = read_catalog(path, language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def read_catalog(path: Path, language: str) -> Catalog:
    """The catalog at ``path``, refused with an InputError naming the file and the message when it
    would show a reader something wrong: a file that is not a gettext catalog, one that translates
    no text at all (the page would be English under another language's label), or a translation
    whose placeholders ({year}, {n}) differ from the English text's (it would fail or lose a number)."""
    from workbench.core.errors import InputError

    allowed = "a gettext .po catalog made from workbench.pot (see workbench/faces/i18n.py)"
    try:
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=language, domain=DOMAIN, abort_invalid=True)
    except PoFileError as err:
        raise InputError(path, f"line {getattr(err, 'lineno', -1) + 1}", f"not a valid catalog: {err}", allowed) from None
    except (OSError, UnicodeDecodeError, ValueError, UnknownLocaleError) as err:
        raise InputError(path, "(file)", f"cannot be read as a catalog: {str(err)[:120]}", allowed) from None
    translated = [m for m in catalog if m.id and any(m.string if isinstance(m.string, tuple) else [m.string])]
    if not translated:
        raise InputError(path, "(file)", "translates none of the workbench's texts", allowed)
    for message in translated:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        where = f"msgid {ids[0][:60]!r} (line {message.lineno})"
        expected = _placeholders(ids[0], path, where)
        for translation in strings:
            found = _placeholders(translation, path, where)
            if translation and found != expected:
                raise InputError(
                    path,
                    where,
                    f"the translation's placeholders {sorted(found)} differ from the text's {sorted(expected)}",
                    "the same {names} as the English text, each spelt as there",
                )
    return catalog


def _placeholders(text: str, path: Path, where: str) -> set[str]:
    """The ``{names}`` in a text, as ``str.format`` reads them; an unbalanced brace is an error."""
    from workbench.core.errors import InputError

    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as err:
        raise InputError(path, where, f"has a brace that str.format cannot read ({err})", "{name} placeholders, {{ for a brace") from None


@dataclass(frozen=True)
class Language:
    """One reader's language: its texts, and its way of writing dates and numbers."""

    code: str
    locale_dir: Path = LOCALE_DIR

    @property
    def locale(self) -> Locale:
        # English as the United Nations writes it (21 May 2024), not the United States' default.
        return Locale.parse("en_GB" if self.code == "en" else self.code)

    @property
    def direction(self) -> str:
        """ "rtl" for Arabic and other right-to-left scripts, else "ltr"."""
        return self.locale.text_direction

    def gettext(self, text: str) -> str:
        return _catalog(self.code, self.locale_dir).gettext(text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _catalog(self.code, self.locale_dir).ngettext(singular, plural, n)

    def date(self, day: dt.date | None, fmt: str = "long") -> str:
        """A date in the reader's way: "1 October 2030", "1 octobre 2030", "1 de octubre de 2030"."""
        return "—" if day is None else format_date(day, format=fmt, locale=self.locale)

    def month(self, day: dt.date | None) -> str:
        """Month and year: "December 2052", "décembre 2052"."""
        return "—" if day is None else format_date(day, format="MMMM y", locale=self.locale)

    def percent(self, p: float, digits: int = 0) -> str:
        return format_percent(p, format="#,##0" + ("." + "0" * digits if digits else "") + " %", locale=self.locale)

    def chance(self, p: float, n: int) -> str:
        """A probability estimated from ``n`` runs, as honestly as they allow: none of them is
        "fewer than 1 in n", not 0 %; all of them "more than n-1 in n"."""
        if p <= 0:
            return self.gettext("fewer than 1 in {n}").format(n=self.number(n))
        if p >= 1:
            return self.gettext("more than {k} in {n}").format(k=self.number(n - 1), n=self.number(n))
        return self.percent(p, 1 if p < 0.1 else 0)

    def number(self, x: float, digits: int = 0) -> str:
        return format_decimal(round(x, digits), format="#,##0" + ("." + "0" * digits if digits else ""), locale=self.locale)


def language(code: str = "en", locale_dir: Path = LOCALE_DIR) -> Language:
    """The language ``code`` (e.g. "fr"); an unknown one is an error naming those available."""
    from workbench.core.errors import InputError

    available = (
        languages()
        if locale_dir == LOCALE_DIR
        else ["en", *sorted(p.parent.parent.name for p in locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))]
    )
    if code not in available:
        raise InputError(
            "--lang", "lang", f"{code!r} has no catalog", ", ".join(available) + " (a translator adds one: see workbench/faces/i18n.py)"
        )
    _catalog(code, locale_dir)  # a damaged catalog is refused here, before anything is written in it
    return Language(code, locale_dir)
