"""Russian for the sentences of `loya simulate` and `loya diff` reports (figure notes, the input
line, the notes under tables, the assumptions, assertion details and counts), as templates read back from the English text (``templates.py``); the report's titles and
column headers are ``loyadsl/locale_text.py``'s ``RU``."""

from __future__ import annotations

from functools import cache

from loyadsl.i18n.ru_explain import money
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
    ("{path} is {found}, expected {op} {limit}", "{path} = {found|money}, ожидалось {op} {limit|money}"),
    # the assumptions (``simulate/report.py``, ``assumptions``)
    ("No behavioural response: customers buy exactly what the history holds; the programme changes the money of "
     "each receipt, not who comes, when, or what is in the basket.",
     "Поведение покупателей не меняется: они покупают ровно то, что записано в истории; программа меняет деньги "
     "каждого чека, но не то, кто приходит, когда и что лежит в корзине."),
    ("Coupons are redeemed only where a receipt of the history presents one ({redeemed} redeemed, {issued} issued "
     "in this run): the history's rate, not a forecast.",
     "Купоны погашаются только там, где чек из истории их предъявляет (в этом прогоне погашено {redeemed|money}, "
     "выпущено {issued|money}): это доля погашения из истории, а не прогноз."),
    ("Points are redeemed only where a receipt asks for it (its `redeem`); cost counts points at their declared "
     "value ({value} a point) when accrued, whether or not they are spent later.",
     "Баллы списываются только там, где чек это запрашивает (его `redeem`); затраты считают баллы по их "
     "объявленной стоимости ({value|money} за балл) в момент начисления, независимо от того, будут ли они "
     "потрачены."),
    ("Customers missing from the customers file start with an empty state; returns are replayed against their "
     "original receipts.",
     "Покупатели, которых нет в файле покупателей, начинают с пустого состояния; возвраты проигрываются "
     "против их исходных чеков."),
    ("{n} receipts that could not be read are left out (the quarantine file lists them with the reason).",
     "Не прочитанные чеки ({n|money}) не учтены (файл карантина перечисляет их с причиной)."),
    # notes under the tables
    ("the {top} largest of {n} by revenue; a receipt counts under each segment of its customer",
     "{top} крупнейших из {n} по выручке; чек учитывается в каждом сегменте своего покупателя"),
    ("a receipt counts under each segment of its customer", "чек учитывается в каждом сегменте своего покупателя"),
    ("the {top} largest of {n} by revenue", "{top} крупнейших из {n} по выручке"),
    ("the points left in lots at the end of the history (those not yet active included), by the month their lot "
     "expires unless spent first",
     "баллы, оставшиеся в партиях на конец истории (включая ещё не активные), по месяцу, в котором их партия "
     "сгорит, если их не потратят раньше"),
    ("Budgets are programme-wide and kept in time order over all customers: a campaign stops at the receipt that "
     "spends the last of its budget.",
     "Бюджеты общие на всю программу и расходуются в порядке времени по всем покупателям: кампания "
     "останавливается на чеке, который тратит остаток её бюджета."),
    ("Receipts without a customer id are in no arm. Compare arms with `loya ab report` on this report's JSON "
     "(intervals, SRM check).",
     "Чеки без покупателя не входят ни в одну группу. Сравните группы командой `loya ab report` по JSON этого "
     "отчёта (интервалы, проверка SRM)."),
    ("Messages are counted on the first channel of each cascade; `came back`: entries followed by a purchase "
     "within the chain's window.",
     "Сообщения считаются по первому каналу каждого каскада; `вернулись`: входы, за которыми последовала "
     "покупка в пределах окна цепочки."),
    ("Revenue: what was paid on the receipts the campaign touched in the arm.",
     "Выручка: сколько оплачено по чекам группы, которых коснулась кампания."),
    ("Each receipt on which a campaign of such a group fired, evaluated again with the groups in reverse order; "
     "cost difference: reversed minus actual (discount and points at their value).",
     "Каждый чек, где сработала кампания такой группы, рассчитан заново с группами в обратном порядке; "
     "разница затрат: обратный порядок минус фактический (скидка и баллы по их стоимости)."),
    ("programme-wide, kept in time order over all customers: a reward's stock, a campaign's "
     "`redemptions N [per store] [per day]`, one row per store and day used",
     "общие на всю программу, в порядке времени по всем покупателям: запас награды, "
     "`redemptions N [per store] [per day]` кампании, по строке на использованные магазин и день"),
    ("receipts that hit an anti-fraud limit of the programme header (points capped, receipts past the day's limit, "
     "velocity)",
     "чеки, упёршиеся в антифрод-лимит из заголовка программы (баллы урезаны, чеки сверх дневного лимита, "
     "частота)"),
    ("points earned and spent on partner receipts, at the partner's price per point; net > 0: the partner owes the "
     "programme",
     "баллы, заработанные и потраченные в чеках партнёров, по цене балла у партнёра; итого > 0: партнёр должен "
     "программе"),
    # loya diff
    ("{receipts} receipts and {customers} customers got a different outcome",
     "результат изменился: чеков {receipts}, покупателей {customers}"),
    ("{where} moved by {size} ({old} → {new}); at most {limit} allowed",
     "{where} изменился на {size|money} ({old|money} → {new|money}); допускается не больше {limit|money}"),
)


@cache
def catalogue() -> Catalogue:
    return Catalogue((Template("", en, ru) for en, ru in ROWS), {}, {"money": money})
