"""Russian for the sentences of `loya simulate` reports (figure notes, the input line, assertion
counts), as templates read back from the English text (``templates.py``); the report's titles and
column headers are ``loyadsl/locale_text.py``'s ``RU``."""

from __future__ import annotations

from functools import cache

from loyadsl.i18n.templates import Catalogue, Template

ROWS: tuple[tuple[str, str], ...] = (
    ("turnover {amount}", "оборот {amount}"),
    ("{n} units", "единиц: {n}"),
    ("receipts per active customer", "чеков на активного покупателя"),
    ("{n} receipts with a card", "чеков с картой: {n}"),
    ("conversion to a first purchase", "конверсия в первую покупку"),
    ("{share} of first purchases", "{share} от первых покупок"),
    ("discount + points at their value", "скидка + баллы по их стоимости"),
    ("of turnover", "от оборота"),
    ("redeemed / issued; {n} expired", "погашено / выпущено; истекло: {n}"),
    ("used; {amount} sold", "использовано; продано на {amount}"),
    ("worth {amount}", "на сумму {amount}"),
    ("points outstanding at the end", "баллов на счетах на конец периода"),
    ("returns of quarantined receipts", "возвраты чеков из карантина"),
    ("the programme reads it; no line of the history has it", "программа его читает; ни в одной позиции истории его нет"),
    ("read {read} = simulated {simulated} + quarantined {quarantined} + skipped {skipped}",
     "прочитано {read} = обработано {simulated} + в карантине {quarantined} + пропущено {skipped}"),
    ("read {read} = simulated {simulated} + quarantined {quarantined}",
     "прочитано {read} = обработано {simulated} + в карантине {quarantined}"),
    ("{period}; {customers} customers, {returns} returns, {workers} workers ({backend})",
     "{period}\nпокупателей: {customers}, возвратов: {returns}, процессов: {workers} ({backend})"),
    ("assertions: {passed} passed, {failed} failed", "проверки: выполнено {passed}, нарушено {failed}"),
)


@cache
def catalogue() -> Catalogue:
    return Catalogue((Template("", en, ru) for en, ru in ROWS), {})
