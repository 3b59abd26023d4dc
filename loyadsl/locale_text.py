"""Numbers, money and dates for the reader's language (``--lang ru``): ``897 970,39 ₽``, ``5 марта 2026 г.``.

The formats come from the CLDR data that Babel ships (the ``i18n`` extra), not from the machine's
locale settings, so a report reads the same on every machine. No language chosen (the default)
keeps the reports' plain, locale-free forms (``897,970.39 RUB``), on which the golden tests rely.
Values arrive as integers (minor units) and become Decimal, never a float.
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from decimal import Decimal

LANGUAGES = ("en", "ru")
_language: ContextVar[str | None] = ContextVar("loya_language", default=None)


def use(language: str | None) -> None:
    """Format for ``language`` from now on (None: the plain forms); Babel must be importable for one."""
    if language is not None:
        import babel  # noqa: F401  (fail here, where the caller reports a missing extra)
    _language.set(language)


def current() -> str | None:
    return _language.get()


def decimal_text(units: int, decimals: int) -> str | None:
    """``units`` scaled by ``10**-decimals``, grouped and with the decimal sign of the current
    language (``-1 234,50``); None when no language is chosen."""
    language = current()
    if language is None:
        return None
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(Decimal(units).scaleb(-decimals), format=pattern, locale=language)


def percent_text(hundredths: int) -> str | None:
    """A percent given in hundredths of a percent (``687`` -> ``6,87 %`` in Russian, ``6.87%`` in
    English, the language's own pattern); None when no language is chosen."""
    language = current()
    if language is None:
        return None
    from babel import Locale
    from babel.numbers import format_percent

    pattern = Locale.parse(language).percent_formats[None].pattern.split(";")[0].replace("#,##0", "#,##0.00", 1)
    return format_percent(Decimal(hundredths).scaleb(-4), format=pattern, locale=language)


def currency_symbol(code: str) -> str:
    """How the current language writes a currency (``₽`` in Russian, ``RUB`` in English)."""
    language = current()
    if language is None or not code:
        return code
    from babel.numbers import get_currency_symbol

    return get_currency_symbol(code, locale=language)


def date_text(day: dt.date) -> str:
    """A date as the current language writes it in full (``5 марта 2026 г.``), or ISO 8601 by default."""
    language = current()
    if language is None:
        return day.isoformat()
    from babel.dates import format_date

    return format_date(day, format="long", locale=language)


# The reports' titles, figure names and column headers in Russian (``label``); sentences stay English.
RU = {
    "Sales": "Продажи", "Customers": "Покупатели", "Cost": "Затраты", "Points": "Баллы", "Revenue": "Выручка",
    "Receipts": "Чеки", "Average receipt": "Средний чек", "Items per receipt": "Товаров в чеке",
    "Average item price": "Средняя цена товара", "Active customers": "Активные покупатели", "Frequency": "Частота",
    "Card share": "Доля чеков с картой", "First purchases": "Первые покупки", "Repeat purchases": "Повторные покупки",
    "Programme cost": "Затраты программы", "Cost share": "Доля затрат", "Discount": "Скидка", "Coupons": "Купоны",
    "Certificates": "Сертификаты", "Points accrued": "Начислено баллов", "Points redeemed": "Списано баллов",
    "Points expired": "Сгорело баллов", "Liability": "Обязательства", "Campaigns": "Кампании",
    "Campaign": "Кампания", "Group": "Группа", "Participants": "Участники", "Turnover": "Оборот",
    "Revenue / cost": "Выручка / затраты", "Collisions": "Пересечения", "Won": "Выиграли", "Budgets": "Бюджеты",
    "Budget": "Бюджет", "Given": "Выдано", "Used": "Использовано", "Runs out": "Исчерпан", "Requests": "Запросы",
    "Request": "Запрос", "Granted": "Выполнено", "Not granted in full": "Выполнено не полностью",
    "Points redemption": "Оплата баллами", "Coupons presented": "Предъявлено купонов",
    "Certificates presented": "Предъявлено сертификатов", "Assertions": "Проверки", "Result": "Результат",
    "Assertion": "Проверка", "Detail": "Подробности", "Assumptions": "Допущения",
    "What the figures take for granted": "Что принято за данность", "By store": "По магазинам",
    "By channel": "По каналам", "By tier": "По уровням", "By segment": "По сегментам", "Store": "Магазин",
    "Channel": "Канал", "Tier": "Уровень", "Segment": "Сегмент", "Points liability: burn forecast":
    "Обязательства по баллам: прогноз сгорания", "Expires in": "Сгорает в", "Arms": "Группы эксперимента",
    # the input, triggers, experiments, partners, flags and diff tables (loyadsl/i18n owns the Russian)
    "Anonymous receipts": "Анонимные чеки", "Anti-fraud flags": "Антифрод-отметки", "Arm": "Группа",
    "Came back": "Вернулись", "Change": "Изменение", "Change, %": "Изменение, %", "Changed": "Изменилось",
    "Coupons issued": "Выпущено купонов", "Customer": "Покупатель", "Customers changed": "Покупателей изменилось",
    "Customers with the largest change": "Покупатели с наибольшим изменением", "Entered": "Вошли",
    "Experiment": "Эксперимент", "Experiment arms": "Группы эксперимента", "Figure": "Показатель",
    "Flag": "Отметка", "Messages": "Сообщения", "Net": "Итого", "New": "Новая", "Old": "Старая",
    "Overall": "В целом", "Partner": "Партнёр", "Partner pays": "Платит партнёр",
    "Partner settlement": "Расчёты с партнёрами", "Period": "Период", "Points earned": "Заработано баллов",
    "Points spent": "Потрачено баллов", "Quarantined": "В карантине", "Receipt": "Чек",
    "Receipts changed": "Чеков изменилось", "Receipts read": "Прочитано чеков",
    "Receipts with the largest change": "Чеки с наибольшим изменением", "Redeemed": "Погашено",
    "Returns": "Возвраты", "Revenue / customer": "Выручка / покупатель", "Simulated": "Обработано",
    "Skipped": "Пропущено", "Status": "Статус", "Trigger": "Триггер", "Trigger chains": "Триггерные цепочки",
    "We pay": "Платим мы", "Weight": "Вес", "When": "Когда", "Workers": "Процессы",
    "no assertions": "проверок нет", "no budgets": "бюджетов нет", "no campaigns": "кампаний нет",
    "no collisions": "пересечений нет", "no collisions in either version": "пересечений нет ни в одной версии",
    "no customer changed": "ни один покупатель не изменился", "no experiments": "экспериментов нет",
    "no partners": "партнёров нет", "no points outstanding": "баллов на счетах нет",
    "no receipt asked for anything": "ни один чек ничего не запрашивал", "no receipt changed": "ни один чек не изменился",
    "no receipt raised a flag": "ни один чек не получил отметки", "no receipts": "чеков нет",
    "no triggers": "триггеров нет", "none stated": "не указаны", "none": "нет", "Total": "Итого",
    # loya diff
    "Receipts with a collision": "Чеки с пересечением", "Δ Receipts": "Δ Чеки", "Δ Participants": "Δ Участники",
    "Δ Discount": "Δ Скидка", "Δ Points": "Δ Баллы", "Δ Cost": "Δ Затраты", "New cost": "Новые затраты",
    "By weekday": "По дням недели", "Weekday": "День недели", "By hour": "По часам", "Hour": "Час",
}


def label(text: str) -> str:
    """``text`` (a title, figure name or column header, ``Turnover, RUB`` included) in the current
    language, when the catalogue has it; else as it is."""
    if current() != "ru":
        return text
    name, comma, unit = text.partition(", ")
    found = RU.get(name)
    if found is None:
        return text
    return f"{found}{comma}{currency_symbol(unit) if unit else ''}"
