"""Names, dates and numbers made comparable: transliteration, spelling folds, phonetic codes.

Per value, pure and cached: records are prepared once (``prepare.py``), every pairwise comparison runs in SQL.

Names go through three forms:

``clean_name``  NFKC, Arabic script transliterated with our own table (consonants, long vowels, shadda, the
                article, Arabic-Indic digits), any other script through ``unidecode``; lower case ASCII letters,
                apostrophes dropped, ``abd``/``abdi``/``abdul``/``cabdi`` joined to the name that follows
                (``Abdi Rahman`` = ``Abdirahman``), ``bin``/``ibn``/``binti`` dropped. Idempotent.
``name_key``    a spelling skeleton that folds the transliteration variants of Somali and Arabic names:
                ``kh``/``x`` -> h (Somali x is Arabic ha), ``q`` -> k, ``dh`` -> d, ``th`` -> t, ``gh`` -> g,
                ``z`` -> s, ``abd``/``abdul``/``abdal``/``abdi``/``cabdi`` one prefix, Somali ``c`` (ayn)
                dropped next to a vowel or at the end, every vowel dropped (Arabic script writes none),
                ``w``/``y`` kept only as the first letter, doubled letters collapsed. Mohamed, Mohammed,
                Muhammad, Maxamed and محمد all give ``mhmd``; Abdi, Cabdi and عبدي give ``bd``; Omar,
                Cumar and عمر give ``mr``.
``phonetic``    the key in Soundex-like classes (b/f/p/v, d/t, k/g/j, s/sh, m/n, l, r, h), without a final h:
                Fatima and Faadumo, Maryam and Maryan, Warda and Wardah agree.

Dates: ``parse_date`` reads full dates in the usual orders, ``YYYY-MM`` and year-only dates (partial dates keep
what is known), Arabic-Indic digits, and refuses impossible days. Phones keep their last nine digits.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

from unidecode import unidecode

# --- Arabic script ------------------------------------------------------------------------------------------

_ARABIC_CONSONANTS = {
    "ب": "b",
    "ت": "t",
    "ث": "th",
    "ج": "j",
    "ح": "h",
    "خ": "kh",
    "د": "d",
    "ذ": "dh",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "sh",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "dh",
    "ع": "",  # ayn: English spellings drop it (Ali, Omar), Somali writes c (Cali, Cumar); keys drop it too
    "غ": "gh",
    "ف": "f",
    "ق": "q",
    "ك": "k",
    "ک": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "ھ": "h",
    "پ": "p",
    "چ": "ch",
    "ژ": "zh",
    "گ": "g",
    "ء": "",
}
_ARABIC_VOWELS = {
    "ا": "a",
    "أ": "a",
    "إ": "i",
    "آ": "aa",
    "ٱ": "a",
    "ى": "a",
    "ة": "a",
    "ؤ": "u",
    "ئ": "i",
}
_HARAKAT = {"\u064e": "a", "\u0650": "i", "\u064f": "u", "\u064b": "an", "\u064d": "in", "\u064c": "un", "\u0652": ""}
_SHADDA = "\u0651"
_TATWEEL = "\u0640"
_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)}


def _is_arabic(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb50" <= ch <= "\ufefc"


def _arabic_word(word: str) -> str:
    """One word of Arabic script in Latin letters. Waw and ya are consonants at the start of a word and after
    alif, vowels (u, i) elsewhere; a final ta marbuta is a."""
    out: list[str] = []
    prev = ""
    for i, ch in enumerate(word):
        if ch == _TATWEEL:
            continue
        if ch in _DIGITS:
            out.append(_DIGITS[ch])
        elif ch == _SHADDA:
            if prev and i > 0 and word[i - 1] in _HARAKAT:
                out.insert(len(out) - 1, prev)  # consonant, vowel, shadda: the doubled consonant goes first
            elif prev:
                out.append(prev)
        elif ch in _HARAKAT:
            out.append(_HARAKAT[ch])
        elif ch == "و":
            out.append("w" if i == 0 or word[i - 1] in "اأآ" else "u")
        elif ch in "يی":
            out.append("y" if i == 0 or word[i - 1] in "اأآ" else "i")
        elif ch in _ARABIC_VOWELS:
            out.append(_ARABIC_VOWELS[ch])
        elif ch == "ع" and i == 0:
            out.append("a")  # a word-initial ayn is written as its vowel: Ali, Omar, Abdi
        elif ch in _ARABIC_CONSONANTS:
            out.append(_ARABIC_CONSONANTS[ch])
        elif _is_arabic(ch):
            out.append(unidecode(ch))
        else:
            out.append(ch)
        if ch in _ARABIC_CONSONANTS:
            prev = _ARABIC_CONSONANTS[ch]
    return "".join(out)


def transliterate(text: str) -> str:
    """Any script to ASCII: Arabic script with our table (word by word), the rest with unidecode."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    parts: list[str] = []
    for token in re.split(r"(\s+)", text):
        if any(_is_arabic(ch) for ch in token):
            parts.append(_arabic_word(token))
        else:
            parts.append(token)
    return unidecode("".join(parts))


# --- names --------------------------------------------------------------------------------------------------

_ABD = {"abd", "abdi", "abdu", "abdul", "abdel", "abdal", "abdil", "cabd", "cabdi", "cabdul", "cabdu", "cabdil"}
_DROP = {"bin", "ibn", "binti", "bint", "ben"}
_NOT_LETTER = re.compile(r"[^a-z]+")
_APOSTROPHES = re.compile(r"['`\u2019\u02bc\u02bb]")


@lru_cache(maxsize=1_000_000)
def clean_name(value: str | None) -> str | None:
    """Lower-case ASCII name tokens, one space apart; None when nothing is left."""
    if value is None:
        return None
    text = _APOSTROPHES.sub("", transliterate(str(value)).lower())
    tokens = [t for t in _NOT_LETTER.split(text) if t and t not in _DROP]
    merged: list[str] = []
    for token in tokens:
        if merged and merged[-1] in _ABD:
            merged[-1] += token
        else:
            merged.append(token)
    return " ".join(merged) or None


_FOLDS = (
    ("dj", "j"),
    ("kh", "h"),
    ("gh", "g"),
    ("sh", "S"),
    ("ch", "S"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
    ("ck", "k"),
)
_SINGLE = str.maketrans({"x": "h", "q": "k", "z": "s"})
_AYN = re.compile(r"(?<=[aeiou])c|c(?=[aeiou]|$)")
_VOWELS = re.compile(r"[aeiou]")
_SEMI = re.compile(r"(?<=.)[wy]")
_DOUBLE = re.compile(r"(.)\1+")
_CLASSES = str.maketrans({"f": "b", "p": "b", "v": "b", "t": "d", "g": "k", "j": "k", "S": "s", "n": "m"})


_ABD_PREFIX = re.compile(r"^c?abd(?:al|ul|el|il|i|u)?")


def _token_key(token: str) -> str:
    s = token
    if (abd := _ABD_PREFIX.match(s)) and len(s) > abd.end():
        s = "bd" + s[abd.end() :]  # abd al-, abdul-, abdi-, cabdi- are one prefix
    for a, b in _FOLDS:
        s = s.replace(a, b)
    s = _AYN.sub("", s.translate(_SINGLE))
    s = _SEMI.sub("", s)
    s = _VOWELS.sub("", s)
    return _DOUBLE.sub(r"\1", s)


@lru_cache(maxsize=1_000_000)
def name_key(value: str | None) -> str | None:
    """The spelling skeleton of a cleaned name (all its tokens, joined); None when empty."""
    clean = clean_name(value)
    if not clean:
        return None
    key = "".join(_token_key(t) for t in clean.split(" "))
    return _DOUBLE.sub(r"\1", key) or None


@lru_cache(maxsize=1_000_000)
def phonetic(value: str | None) -> str | None:
    """The name key in Soundex-like classes; None when empty."""
    key = name_key(value)
    if not key:
        return None
    if len(key) > 1 and key.endswith("h"):
        key = key[:-1]  # Fatimah/Fatima, Wardah/Warda; the key keeps it (Farah/Faarax)
    return _DOUBLE.sub(r"\1", key.translate(_CLASSES)).lower()


def name_parts(value: str | None) -> list[str]:
    clean = clean_name(value)
    return clean.split(" ") if clean else []


@lru_cache(maxsize=1_000_000)
def clean_text(value: str | None) -> str | None:
    """Free text (addresses, places): ASCII, lower case, words one space apart."""
    if value is None:
        return None
    text = _APOSTROPHES.sub("", transliterate(str(value)).lower())
    words = re.findall(r"[a-z0-9]+", text)
    return " ".join(words) or None


# --- numbers, phones, e-mail ----------------------------------------------------------------------------------


@lru_cache(maxsize=1_000_000)
def digits(value: str | None) -> str | None:
    if value is None:
        return None
    text = "".join(_DIGITS.get(ch, ch) for ch in str(value))
    out = re.sub(r"\D", "", text)
    return out or None


def phone(value: str | None, keep: int = 9) -> str | None:
    """The last ``keep`` digits: country code, trunk zero and spacing differ between lists."""
    d = digits(value)
    if d is None or len(d) < 6:
        return None
    return d[-keep:]


def email(value: str | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    return text if "@" in text else None


# --- dates ----------------------------------------------------------------------------------------------------

_YEAR_ONLY = re.compile(r"^(\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_MY = re.compile(r"^(\d{1,2})[-/.](\d{4})$")


def _valid(y: int, m: int | None, d: int | None) -> bool:
    if not 1850 <= y <= 2100:
        return False
    if m is None:
        return d is None
    if not 1 <= m <= 12:
        return False
    if d is None:
        return True
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1_000_000)
def parse_date(value: str | None, order: str = "ymd") -> tuple[int, int | None, int | None] | None:
    """(year, month or None, day or None), or None when the text is not a date.

    Accepts ``YYYY-MM-DD`` (also ``/`` and ``.``), ``YYYYMMDD``, ``DD/MM/YYYY`` (``order="mdy"`` reads
    ``MM/DD/YYYY``), ``YYYY-MM``, ``MM/YYYY`` and ``YYYY``. A day or month of 0 means unknown."""
    if value is None:
        return None
    text = "".join(_DIGITS.get(ch, ch) for ch in str(value)).strip()
    if not text:
        return None
    y: int
    m: int | None
    d: int | None
    if found := _YEAR_ONLY.match(text):
        y, m, d = int(found.group(1)), None, None
    elif found := _YEAR_MONTH.match(text):
        y, m, d = int(found.group(1)), int(found.group(2)), None
    elif found := _ISO.match(text) or _COMPACT.match(text):
        y, m, d = int(found.group(1)), int(found.group(2)), int(found.group(3))
    elif found := _DMY.match(text):
        a, b = int(found.group(1)), int(found.group(2))
        d, m = (b, a) if order == "mdy" else (a, b)
        y = int(found.group(3))
    elif found := _MY.match(text):
        y, m, d = int(found.group(2)), int(found.group(1)), None
    else:
        return None
    if m == 0:
        m, d = None, None
    if d == 0:
        d = None
    return (y, m, d) if _valid(y, m, d) else None
