"""090x information tariffs, maximum call cost and duration, and the Dutch announcement text.

Source: the service description, section 3.1.3. Amounts are euros including VAT; the per-minute
tariffs have no starting charge.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

PER_CALL: tuple[Decimal, ...] = tuple(Decimal(x) for x in (
    "0.10", "0.15", "0.20", "0.25", "0.30", "0.35", "0.40", "0.45", "0.50", "0.55", "0.60", "0.70",
    "0.80", "0.90", "1.00", "1.10", "1.20", "1.30", "1.40", "1.50", "1.60", "1.70", "1.80", "1.90", "2.00",
))
PER_MINUTE: tuple[Decimal, ...] = tuple(Decimal(x) for x in (
    "0.00", "0.01", "0.02", "0.03", "0.04", "0.05", "0.06", "0.07", "0.08", "0.09", "0.10", "0.15",
    "0.20", "0.25", "0.30", "0.35", "0.40", "0.45", "0.50", "0.55", "0.60", "0.65", "0.70", "0.80",
    "0.90", "0.95", "1.00", "1.10", "1.20",
))
# Above this per-minute tariff a maximum call cost must be set and announced (BUDE/RUDE).
MAX_COST_REQUIRED_ABOVE = Decimal("0.15")


def allowed(values: tuple[Decimal, ...]) -> str:
    return ", ".join(f"€{v:.2f}" for v in values)


def max_duration_seconds(max_cost: Decimal, per_call: Decimal, per_minute: Decimal) -> int | None:
    """(max cost − per-call tariff) / per-minute tariff, in whole seconds, rounded down."""
    if per_minute <= 0:
        return None
    seconds = (max_cost - per_call) / per_minute * 60
    return int(seconds.to_integral_value(rounding=ROUND_FLOOR))


def spoken_amount(amount: Decimal) -> str:
    """€1.10 → '1 euro 10', €0.50 → '50 cent', €2.00 → '2 euro' (how Dutch prompts say it)."""
    euros, cents = divmod(int((amount * 100).to_integral_value()), 100)
    if euros and cents:
        return f"{euros} euro {cents}"
    if euros:
        return f"{euros} euro"
    return f"{cents} cent"


def announcement_text(per_call: Decimal | None, per_minute: Decimal | None, max_cost: Decimal | None) -> str:
    """The tariff announcement, e.g. 'Dit gesprek kost 1 euro per minuut en 50 cent per gesprek.
    De maximale gesprekskosten zijn 10 euro.'"""
    parts = []
    if per_minute:
        parts.append(f"{spoken_amount(per_minute)} per minuut")
    if per_call:
        parts.append(f"{spoken_amount(per_call)} per gesprek")
    text = f"Dit gesprek kost {' en '.join(parts) or 'niets extra'}."
    if max_cost is not None:
        text += f" De maximale gesprekskosten zijn {spoken_amount(max_cost)}."
    return text


def call_revenue_cents(per_call: Decimal | None, per_minute: Decimal | None, talk_s: float) -> int:
    """What an answered 090x call brings in, in cents: the per-call tariff plus the per-minute
    tariff for every second talked (billed per second), rounded half-up to the cent per call.
    Unanswered calls are free (talk_s == 0 and they are not passed here)."""
    seconds = Decimal(str(talk_s)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    amount = (per_call or Decimal(0)) + (per_minute or Decimal(0)) * seconds / 60
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
