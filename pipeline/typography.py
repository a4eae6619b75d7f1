"""Print typography, applied to every string at render time: quotes, apostrophes, no-break spaces.

Authors and translators type straight quotes ('Xanax', won't, l'adresse); print
wants each language's own marks. `typeset(text, language)`:

- an apostrophe between letters becomes ’ (won’t, l’adresse);
- 'quoted' and "quoted" words get the language's inner and outer quotes
  (en “ ” ‘ ’; fr « » with narrow no-break spaces; de „ “ ‚ ‘; es, pt... see QUOTES);
- French puts a narrow no-break space before ; : ! ? so they never start a line;
- a space before a dash or a slash-separated short unit is made no-break
  so nothing short hangs at a line end;
- Persian joins the verb prefix می/نمی and the plural suffix ها/های to their word
  with a zero-width non-joiner, not a space (نمی شود → نمی‌شود, لب های → لب‌های),
  as Persian print does: the word is not split across lines and keeps its shape;
- Chinese and Japanese join the last two characters of a string with a word joiner
  (U+2060), so that no character is left alone on the last line ("剂。").

It never changes letters, digits or placeholders, only quote marks and spaces (and, in Persian,
a space for a ZWNJ).

`format_local_date(date, language, region)` writes a date the edition's way
(Babel, CLDR "long" format), for the `{date}` placeholder.
"""

from __future__ import annotations

import datetime as dt
import re

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

NNBSP = "\u202f"  # narrow no-break space (French punctuation, guillemets)
NBSP = "\u00a0"

# language -> (outer open, outer close, inner open, inner close)
QUOTES: dict[str, tuple[str, str, str, str]] = {
    "en": ("“", "”", "‘", "’"),
    "es": ("«", "»", "“", "”"),
    "fr": ("«" + NNBSP, NNBSP + "»", "“", "”"),
    "pt": ("“", "”", "‘", "’"),
    "de": ("„", "“", "‚", "‘"),
    "vi": ("“", "”", "‘", "’"),
    "tl": ("“", "”", "‘", "’"),
    "ht": ("«", "»", "“", "”"),
    "so": ("“", "”", "‘", "’"),
    "ru": ("«", "»", "„", "“"),
    "uk": ("«", "»", "„", "“"),
    "ar": ("«", "»", "“", "”"),
    "fa": ("«", "»", "“", "”"),
    "hi": ("“", "”", "‘", "’"),
    "bn": ("“", "”", "‘", "’"),
    "zh-Hans": ("“", "”", "‘", "’"),
    "zh-Hant": ("「", "」", "『", "』"),
    "ko": ("“", "”", "‘", "’"),
    "ja": ("「", "」", "『", "』"),
    "am": ("«", "»", "‹", "›"),
}
_LETTER = r"[^\W\d_]"
_APOSTROPHE = re.compile(rf"(?<={_LETTER})'(?={_LETTER})")
_DOUBLE = re.compile(r'"([^"\n]+)"')
_SINGLE = re.compile(rf"(?<![\w’])'({_LETTER}[^'\n]*?)'(?!\w)")
_FRENCH_PUNCT = re.compile(r"[ \u00a0]+([;:!?])")
_SPACE_DASH = re.compile(r" ([–—])")
ZWNJ = "\u200c"
WORD_JOINER = "\u2060"
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# The last two CJK characters of a string, and whatever punctuation closes it.
_CJK_LAST_TWO = re.compile(rf"([{_CJK}])([{_CJK}][^{_CJK}\w]*)$")
_PERSIAN_LETTER = r"[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]"
# می/نمی standing alone before a Persian word: the continuous/negative verb prefix (نمی شود → نمی‌شود).
_FA_VERB_PREFIX = re.compile(rf"(?<![\w\u200c])(ن?می) (?={_PERSIAN_LETTER})")
# ها/های... standing alone after a Persian word: the plural suffix (لب های → لب‌های, آن ها → آن‌ها).
_FA_PLURAL = re.compile(rf"(?<={_PERSIAN_LETTER}) (ها(?:ی|یی|یم|یت|یش|یمان|یتان|یشان)?)(?![\w\u200c])")


def quotes_for(language: str) -> tuple[str, str, str, str]:
    return QUOTES.get(language) or QUOTES.get(language.split("-")[0], QUOTES["en"])


def typeset(text: str, language: str) -> str:
    """The text with the language's quotes and apostrophes and no-break spaces where lines must not break."""
    outer_open, outer_close, inner_open, inner_close = quotes_for(language)
    text = _APOSTROPHE.sub("’", text)
    text = _DOUBLE.sub(lambda m: f"{outer_open}{m.group(1)}{outer_close}", text)
    text = _SINGLE.sub(lambda m: f"{inner_open}{m.group(1)}{inner_close}", text)
    if language.split("-")[0] == "fr":
        text = _FRENCH_PUNCT.sub(NNBSP + r"\1", text)
        text = re.sub(r"«[ \u00a0]+", "«" + NNBSP, text)
        text = re.sub(r"[ \u00a0]+»", NNBSP + "»", text)
    text = _SPACE_DASH.sub(NBSP + r"\1", text)
    if language.split("-")[0] == "fa":
        text = _FA_VERB_PREFIX.sub(r"\1" + ZWNJ, text)
        text = _FA_PLURAL.sub(ZWNJ + r"\1", text)
    if language.split("-")[0] in ("zh", "ja"):
        text = _CJK_LAST_TWO.sub(r"\1" + WORD_JOINER + r"\2", text)
    return text


# Runs of Latin letters (with inner spaces, hyphens, apostrophes) in markup, skipping tags and entities.
_LATIN_WORD = r"[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f’'\-]*"
_MARKUP_OR_LATIN = re.compile(rf"(<[^>]*>|&[#\w]+;)|(\(?{_LATIN_WORD}(?:[\s,:;.!?]+{_LATIN_WORD})*[.,:;!?]?\)?)")


def tag_foreign_words(markup: str, lang: str) -> str:
    """Wrap each run of Latin-script words in `<article class="foreign" lang="…">` (in Arabic or Persian text: Narcan).

    WeasyPrint 70 writes no /Lang on structure elements and maps <article> to /Art,
    which no template uses otherwise: pipeline/render/prepress.py turns each /Art into a
    /Span carrying /Lang (FOREIGN_LANG), and base.css sets the element inline.
    Works on escaped markup: tags and character entities are left alone, so the
    result is still safe markup.
    """

    def wrap(match: re.Match[str]) -> str:
        if match.group(1):
            return str(match.group(1))
        return f'<article class="foreign" lang="{lang}" dir="ltr">{match.group(2)}</article>'

    return _MARKUP_OR_LATIN.sub(wrap, markup)


def babel_locale(language: str, region: str) -> Locale:
    """The Babel locale of an edition (zh-Hans + US -> zh_Hans_US), falling back to the language alone."""
    for tag in (f"{language}_{region}", language):
        try:
            return Locale.parse(tag.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def format_local_date(date: dt.date, language: str, region: str) -> str:
    """A date written the edition's way (Babel, CLDR 'long' format): 21 November 2026, 21 novembre 2026..."""
    return format_date(date, format="long", locale=babel_locale(language, region))
