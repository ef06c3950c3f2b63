"""Points as the ledger shows them: one decimal place, gains with a plus sign ("+10.0", "-3.0")."""

from decimal import Decimal

#: Zero points, with the ledger's one decimal place (sums start here so they keep it).
ZERO = Decimal("0.0")


def points_format(value: Decimal | int | str, *, signed: bool = True) -> str:
    """The text of a points value: "+10.0" for a gain when ``signed``, "-3.0" for a loss, "0.0"."""
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    return f"+{value}" if signed and value > 0 else str(value)
