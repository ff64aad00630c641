"""Numbers, dates and quotations written the way the pack's locale writes them (babel, CLDR data)."""
from __future__ import annotations

import decimal
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_compact_decimal, format_currency, format_decimal, format_percent, get_currency_name

from brief.content import model as m

# CLDR's quotation delimiters (babel does not carry them), by language; English marks otherwise.
_QUOTES = {
    "de": ("„", "“"), "fr": ("« ", " »"), "es": ("«", "»"), "it": ("«", "»"), "ru": ("«", "»"),
    "uk": ("«", "»"), "pl": ("„", "”"), "nl": ("‘", "’"), "sv": ("”", "”"), "da": ("”", "”"),
    "cs": ("„", "“"), "ja": ("「", "」"), "zh": ("“", "”"), "pt": ("“", "”"), "en": ("“", "”"),
}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_WORDS_FROM = Decimal(1_000_000)  # below a million, digits read better than words
_WORDS_UNTIL = Decimal(10) ** 15  # CLDR names magnitudes up to trillions; beyond, a power of ten reads better


@dataclass(frozen=True)
class Wording:
    """How one pack writes numbers, dates and quotations."""

    locale: Locale

    @classmethod
    def of(cls, pack: m.Pack) -> Wording:
        """Return the pack's wording: its locale, else its language, else English."""
        for tag in (pack.locale, pack.language.replace("-", "_"), "en"):
            if not tag:
                continue
            try:
                return cls(Locale.parse(tag))
            except (UnknownLocaleError, ValueError, TypeError):
                continue
        return cls(Locale.parse("en"))  # pragma: no cover - English is always there

    def date(self, value: date | m.PartialDate) -> str:
        """Write a date at its precision: '20 December 2024', 'December 2024', '2024' (as the locale does)."""
        if isinstance(value, m.PartialDate):
            if value.precision == "year":
                return str(value.year)
            if value.precision == "month":
                return format_date(value.start, "LLLL y", locale=self.locale)
            value = value.start
        return format_date(value, "long", locale=self.locale)

    def quoted(self, text: str) -> str:
        """Put text in the locale's quotation marks."""
        start, end = _QUOTES.get(self.locale.language, _QUOTES["en"])
        return f"{start}{text}{end}"

    def number(self, value: Decimal, style: str = "words", unit: str | None = None) -> str:
        """Write a figure: '35 million', 'EUR 35 million', '10²⁵', '7%', '1,234 protocols'. Never exponent form."""
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        with decimal.localcontext() as ctx:
            ctx.prec = 60  # 10^25 and its grouping need more than the default 28 digits
            if unit == "%":
                return format_percent(value / 100, locale=self.locale, decimal_quantization=False)
            amount = self._amount(value, style)
            if unit and _is_currency(unit):
                return self._money(amount, unit)
            return f"{amount} {unit}" if unit else amount

    def figure(self, f: m.Figure, with_unit: bool = True) -> str:
        """Write a figure with its qualifier: 'about 120,000 households', 'EUR 35 million'."""
        qualifier = "" if f.qualifier == "exactly" else f.qualifier + " "
        return qualifier + self.number(f.value, f.style, f.unit if with_unit else None)

    def _amount(self, value: Decimal, style: str) -> str:
        if (style == "exponent" and value and abs(value) >= 1000) or (style == "words" and abs(value) >= _WORDS_UNTIL):
            sign, digits, exponent = value.normalize().as_tuple()
            power = len(digits) - 1 + int(exponent)
            mantissa = (value / Decimal(10) ** power).normalize()
            exact = format_decimal(mantissa, locale=self.locale, decimal_quantization=False)
            lead = "" if mantissa == 1 else f"{exact} × "
            return f"{'-' if sign and mantissa == 1 else ''}{lead}10{str(power).translate(_SUPERSCRIPT)}"
        if style == "words" and abs(value) >= _WORDS_FROM and _exact_in_words(value):
            return format_compact_decimal(value, format_type="long", locale=self.locale, fraction_digits=2)
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def _money(self, amount: str, code: str) -> str:
        # The ISO code, not a symbol ("$" is several currencies), where the locale puts its symbol.
        pattern = format_currency(1, code, locale=self.locale, format_type="standard")
        before = pattern.strip()[0] not in "0123456789"
        return f"{code} {amount}" if before else f"{amount} {code}"


def _exact_in_words(value: Decimal) -> bool:
    """True when '35 million' (two decimals at most) says the value exactly; else digits, never a rounding."""
    thousands = (len(str(int(abs(value)))) - 1) // 3 * 3
    scaled = value / Decimal(10) ** thousands
    return scaled == scaled.quantize(Decimal("0.01"))


def _is_currency(unit: str) -> bool:
    if len(unit) != 3 or not unit.isalpha() or not unit.isupper():
        return False
    try:
        get_currency_name(unit, locale="en")
    except (UnknownLocaleError, ValueError):
        return False
    return get_currency_name(unit, locale="en") != unit
