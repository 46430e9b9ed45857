"""Dutch public holidays with their real dates, from the ``holidays`` package.

GotoIfTime has no year, so the dialplan gets absolute dates: every holiday from this year up to
``HOLIDAY_YEARS_AHEAD`` years on. The apply refuses nothing for that; instead the horizon is far
enough that a plan applied today stays correct for a decade without regeneration.
"""

from __future__ import annotations

from datetime import date

import holidays

HOLIDAY_YEARS_AHEAD = 10
# The list: New Year, Easter Sunday and Monday, King's Day (26 April when 27 April is a
# Sunday), Liberation Day (every year: holidays has it as "optional" outside lustrum years),
# Ascension, Whit Sunday and Monday, Christmas. Good Friday is not a day off in the Netherlands.
EXCLUDED = {"Good Friday"}


def dutch_holidays(first_year: int, last_year: int) -> dict[date, str]:
    found = holidays.country_holidays(
        "NL", years=range(first_year, last_year + 1), categories=("public", "optional"), language="en_US")
    return {d: name for d, name in sorted(found.items()) if name not in EXCLUDED}
