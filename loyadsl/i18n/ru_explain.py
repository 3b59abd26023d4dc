"""Russian for what `loya eval --explain` and `--hints` print: the trace's steps, a rejected
campaign's detail and the cashier's upsell hints, as templates read back from the English text the
runtime writes (``templates.py``). The runtime stays English (a till logs it as it is); only the
text edge asks ``i18n.explain``. Expressions of the programme (``receipt.total 840.00 < 1000.00``),
names and codes stay as written; money in a step is rewritten for the reader (``{amount|money}``:
``120.00`` -> ``120,00``, ``120.00 RUB`` -> ``120,00 ₽``)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache

from loyadsl import locale_text
from loyadsl.i18n.templates import Catalogue, Template

_AMOUNT = re.compile(r"([+−-]?)([\d,]+(?:\.\d+)?)(?: ([A-Z]{3}))?(%?)")


def money(text: str) -> str:
    """``1,234.50`` -> ``1 234,50`` and ``120.00 RUB`` -> ``120,00 ₽`` in the reader's language; a text
    that is not an amount, or no language chosen, stays as it is."""
    found = _AMOUNT.fullmatch(text)
    if found is None or locale_text.current() is None:
        return text
    sign, digits, currency, percent = found.groups()
    try:
        value = Decimal(digits.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        return text
    decimals = len(digits.partition(".")[2])
    shown = locale_text.decimal_text(int(value.scaleb(decimals)), decimals) or digits
    if percent:
        return f"{sign}{shown} %"
    return f"{sign}{shown}" + (f" {locale_text.currency_symbol(currency)}" if currency else "")


ROWS: tuple[tuple[str, str], ...] = (
    # the receipt, experiments, groups
    ("receipt {id}: {day} {time} {weekday} ({zone}), store {store}, channel {channel}, {n} lines, total {total}, "
     "customer {customer}",
     "чек {id}: {day} {time} {weekday|word} ({zone}), магазин {store}, канал {channel},\n"
     "    позиций: {n}, сумма {total|money}, покупатель {customer|word}"),
    ("experiment {name}: arm {arm} (bucket {bucket})", "эксперимент {name}: группа {arm} (корзина {bucket})"),
    ("experiment {name}: anonymous receipt, in no arm; gets the campaigns of arm {arm}",
     "эксперимент {name}: анонимный чек, ни в одной группе; получает кампании группы {arm}"),
    ("experiment {name}: anonymous receipt, in no arm; gets none of its campaigns",
     "эксперимент {name}: анонимный чек, ни в одной группе; не получает ни одной его кампании"),
    ("group {name}: priority {priority}, {stacking}, basis {basis}, payable {payable}",
     "группа {name}: приоритет {priority}, {stacking}, база {basis},\n    к оплате {payable|money}"),
    ("exclusive: {name} blocks every other campaign", "эксклюзивная: {name} блокирует все остальные кампании"),
    # a campaign in its group
    ("  {name}: candidate, discount {discount}, points {points}",
     "  {name}: кандидат, скидка {discount|money}, баллы {points|money}"),
    ("  {name}: max discount {most} (the mechanic gives {requested})",
     "  {name}: скидка не больше {most|money} (механика даёт {requested|money})"),
    ("  {name}: applied discount {amount}, capped {capped} (lines had too little left)",
     "  {name}: применена скидка {amount|money}, урезано {capped|money} (в позициях осталось слишком мало)"),
    ("  {name}: applied discount {amount}", "  {name}: применена скидка {amount|money}"),
    ("  {name}: {reason} ({detail})", "  {name}: {reason|word} ({detail|explain})"),
    ("  {name}: {reason}", "  {name}: {reason|word}"),
    ("points: {name} gives {points}", "баллы: {name} начисляет {points|money}"),
    ("payment: {points} points pay {amount}, certificates {certificates}",
     "оплата: {points} баллов покрывают {amount|money}, сертификаты {certificates|money}"),
    ("anti-fraud: {flag} (limit {limit})", "антифрод: {flag} (лимит {limit})"),
    # why a campaign did not apply (a rejection's detail)
    ("{name} is exclusive on the receipt", "{name} — эксклюзивная на этом чеке"),
    ("{group} is {mode}; applied: {winners}", "группа {group} — {mode}; применены: {winners}"),
    ("local date {day} not in {first}..{last}", "местная дата {day} вне {first}..{last}"),
    ("{time} not in {first}..{last}", "{time} вне {first}..{last}"),
    ("{day} not in {days}", "{day|word} не входит в {days|words}"),
    ("store {store}", "магазин {store}"),
    ("channel {channel}", "канал {channel}"),
    ("none of the SKUs it needs is on the receipt", "в чеке нет ни одного нужного ей артикула"),
    ("{name}: the receipt gets no arm (anonymous); the campaign joins {arms}",
     "{name}: чек не попадает ни в одну группу (анонимный); кампания входит в {arms}"),
    ("{name}: the receipt gets arm {arm}; the campaign joins {arms}",
     "{name}: чек попадает в группу {arm}; кампания входит в {arms}"),
    ("a counter it spends from has too little", "на счётчике, с которого она списывает, недостаточно"),
    ("no valid coupon of the series {series} was presented", "не предъявлен действующий купон серии {series}"),
    ("used {used} of {count} per {per} ({key})", "использовано {used} из {count} за {per|word} ({key})"),
    ("the {kind} budget of {amount} is spent", "бюджет ({kind|word}) {amount|money} израсходован"),
    ("the customer's {amount} of discount per {per} is used",
     "покупатель уже получил свои {amount|money} скидки за {per|word}"),
    ("its {count} redemptions {scope} are used", "её {count} использований {scope} исчерпаны"),
    ("the receipt did not choose this reward", "в чеке не выбрана эта награда"),
    ("no unit of the reward is left", "награды не осталось"),
    ("costs {points} points of {account}, the customer has {have}",
     "стоит {points} баллов счёта {account}, а у покупателя {have}"),
    # the cashier's upsell hints
    ("add {n} more line of {where}", "добавьте ещё позиций ({where}): {n}"),
    ("add {n} more lines of {where}", "добавьте ещё позиций ({where}): {n}"),
    ("add {n} more line", "добавьте ещё позиций: {n}"),
    ("add {n} more lines", "добавьте ещё позиций: {n}"),
    ("add {n} more unit of {where}", "добавьте ещё единиц товара ({where}): {n}"),
    ("add {n} more units of {where}", "добавьте ещё единиц товара ({where}): {n}"),
    ("add {n} more unit", "добавьте ещё единиц товара: {n}"),
    ("add {n} more units", "добавьте ещё единиц товара: {n}"),
    ("add {qty} more of {where}", "добавьте ещё {qty|money} ({where})"),
    ("add {qty} more", "добавьте ещё {qty|money}"),
    ("add {amount} of {where}", "докупите ещё на {amount|money} ({where})"),
    ("add {amount}", "докупите ещё на {amount|money}"),
)

# why a campaign did not apply: the runtime's reason codes (loya eval's table says them too)
REASONS: dict[str, str] = {
    "condition_false": "условие не выполнено", "no_eligible_items": "нет подходящих позиций",
    "no_effect": "действие ничего не дало", "blocked_by_exclusive": "заблокирована эксклюзивной кампанией",
    "lost_to_stacking": "уступила по правилу совмещения", "budget_exhausted": "бюджет исчерпан",
    "limit_reached": "лимит исчерпан", "usage_limit": "лимит использования исчерпан", "no_coupon": "нет купона",
    "outside_dates": "вне дат действия", "outside_hours": "вне часов действия", "not_yet_valid": "ещё не действует",
    "not_in_arm": "не в группе эксперимента", "not_chosen": "не выбрана", "reward_refused": "награда отклонена",
    "not_applicable": "неприменима", "audience": "покупатель вне аудитории", "wrong_weekday": "не тот день недели",
    "store_not_eligible": "магазин не участвует", "channel_not_eligible": "канал не участвует",
    "stacking_limit": "предел совмещения",
}

# the runtime's words inside a step: reasons (as `loya eval` shows them), weekdays, periods
WORDS: dict[str, str] = {
    **REASONS, "insufficient_balance": "недостаточно на счётчике",
    "out_of_stock": "нет в наличии", "insufficient_points": "недостаточно баллов",
    "Mon": "пн", "Tue": "вт", "Wed": "ср", "Thu": "чт", "Fri": "пт", "Sat": "сб", "Sun": "вс",
    "anonymous": "анонимный", "day": "день", "week": "неделю", "month": "месяц", "year": "год",
    "receipt": "чек", "customer": "покупателя", "money": "деньги", "points": "баллы",
}


def words(text: str) -> str:
    """A listing of the runtime's words (``Sat, Sun``), each translated (``сб, вс``)."""
    return ", ".join(WORDS.get(word, word) for word in text.split(", "))


def explain_filter(text: str) -> str:
    """A detail inside a step, translated by the same catalogue when a template matches it."""
    found = catalogue().translate("", text)
    return text if found is None else found


@cache
def catalogue() -> Catalogue:
    filters = {"money": money, "words": words, "explain": explain_filter}
    return Catalogue((Template("", en, ru) for en, ru in ROWS), WORDS, filters)
